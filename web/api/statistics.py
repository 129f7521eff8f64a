"""Regulator statistics API: one dashboard section as JSON (role and region scope are checked in
engine/services/statistics)."""
from datetime import date

from flask import g, jsonify

from engine.services import statistics
from forms.messages import pick

from ..extensions import db
from ..pages.statistics import statistics_query
from ..security import login_required
from . import bp


def _value(value):
    return value.isoformat() if isinstance(value, date) else value


@bp.get("/v1/statistics/<section>")
@login_required
def statistics_section(section: str):
    statistics.resolve_scope(g.user)  # role first: others learn nothing from a 404 or 422
    report = statistics.compute(db.session, g.user, section, **statistics_query())
    region = report.scope.region
    return jsonify({
        "section": report.section.name, "title": pick(report.section.title),
        "region": {"code": region.code, "name": region.name, "level": region.level},
        "children": [{"code": c.code, "name": c.name} for c in report.scope.children],
        "period": {"key": report.period.key, "start": report.period.start.isoformat(),
                   "end": report.period.end.isoformat(), "applies": report.section.uses_period},
        "columns": [{"key": c.key, "title": pick(c.title), "kind": c.kind} for c in report.section.columns],
        "rows": [{k: _value(v) for k, v in row.items()} for row in report.rows],
    })
