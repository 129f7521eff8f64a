"""Regulator statistics (domain.md §8): one module per dashboard section, each a few grouped queries
over indexed columns, scoped to the regulator's jurisdiction (a region within it when drilling down).

    report = statistics.compute(session, user, "cranes", region="420100", period="12m")
"""
from dataclasses import dataclass
from datetime import date

from engine.db import User
from engine.errors import NotFound
from forms.fields import today_in_china
from forms.messages import t

from . import ages, cranes, monthly, overdue, processing, supervision
from .base import Section
from .period import Period, period_choices, resolve_period
from .scope import Scope, resolve_scope

SECTIONS: dict[str, Section] = {m.SECTION.name: m.SECTION for m in (cranes, ages, monthly, processing, supervision,
                                                                     overdue)}


@dataclass(frozen=True)
class Report:
    section: Section
    scope: Scope
    period: Period
    rows: list[dict]


def section(name: str) -> Section:
    try:
        return SECTIONS[name]
    except KeyError:
        raise NotFound(t("statistics_section_unknown", name=name)) from None


def compute(session, user: User, name: str, *, region: str | None = None, period: str | None = None,
            today: date | None = None) -> Report:
    """One section's rows for `user` (a regulator), in `region` (default: the user's own) and `period`."""
    chosen = section(name)
    scope = resolve_scope(user, region)
    today = today or today_in_china()
    span = resolve_period(period, today)
    return Report(chosen, scope, span, chosen.rows(session, scope, span, today))


__all__ = ["SECTIONS", "Report", "compute", "period_choices", "resolve_scope", "section"]
