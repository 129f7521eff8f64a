"""What the lifecycle rules need to know about a crane on a date, and the refusal they give."""
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import object_session

from engine.db import Crane, Hazard, Inspection
from engine.domain import lifecycle
from engine.domain.cranes import add_years, assessment_required
from engine.errors import InvalidInput
from forms import current_locale

from .operations import assessment_valid_until, latest_assessment
from .settings import CHINA_TZ


def _orders(crane: Crane) -> tuple[bool, bool]:
    """(a stop-use order is in force, a major hazard naming the crane is open)."""
    session = object_session(crane)
    if session is None or crane.id is None:
        return False, False
    stop_use = session.scalar(select(Inspection.id).where(
        Inspection.stop_use_crane_id == crane.id, Inspection.status == "open").limit(1)) is not None
    major = session.scalar(select(Hazard.id).where(
        Hazard.crane_id == crane.id, Hazard.status == "open", Hazard.grade == "major").limit(1)) is not None
    return stop_use, major


def _valid_assessment(crane: Crane, on: date) -> bool:
    """The latest recorded assessment decides (合格 and in force on the date); before any is
    recorded, the report lodged with the filing holds for the validity period from the filing."""
    session = object_session(crane)
    latest = latest_assessment(session, crane.id) if session is not None and crane.id is not None else None
    if latest is not None:
        return latest.result == "qualified" and latest.valid_until is not None and latest.valid_until >= on
    if crane.filed_at is None or not any(d.doc_type == "assessment_report" for d in crane.documents):
        return False
    return assessment_valid_until(crane.filed_at.astimezone(CHINA_TZ).date()) >= on


def crane_facts(crane: Crane, on: date) -> lifecycle.CraneFacts:
    over_age = crane.manufacture_date is not None and on >= crane.manufacture_date and assessment_required(
        crane.crane_type, crane.manufacture_date, on,
        rated_moment_knm=float(crane.rated_moment_knm) if crane.rated_moment_knm is not None else None,
        hoist_drive=crane.hoist_drive)
    past_life = bool(crane.design_life_years and crane.manufacture_date
                     and on > add_years(crane.manufacture_date, crane.design_life_years))
    stop_use, open_major = _orders(crane)
    return lifecycle.CraneFacts(
        state=crane.status,
        stop_use_order=stop_use,
        open_major_hazard=open_major,
        installed_elsewhere=crane.project_id is not None,
        over_age=over_age,
        valid_assessment=_valid_assessment(crane, on),
        past_design_life=past_life,
    )


def refusal_message(code: str) -> str:
    zh, en = lifecycle.REFUSAL_MESSAGES[code]
    return zh if current_locale.get().startswith("zh") else en


def check_procedure_allowed(procedure: str, crane: Crane, on: date, field: str = "crane_id") -> None:
    """Raise InvalidInput naming `field` when the lifecycle refuses `procedure` for this crane."""
    problem = lifecycle.refusal(procedure, crane_facts(crane, on))
    if problem:
        raise InvalidInput({field: [refusal_message(problem)]})
