"""The system's own figures for a region and period, to pre-fill periodic reports.

Two grouped queries: one over the cases of the procedures counted (by procedure, on the indexed
process key), one over the spot checks (on the indexed region code) with their hazards."""
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from engine.db import Hazard, Inspection, ProcessInstance
from forms.report_submission import PREFILL_SOURCES

from .access import jurisdiction_codes
from .settings import CHINA_TZ

# Cases counted when they ended with this outcome in the period (filings, registrations,
# cancellations), or when they were opened in it (notices).
COMPLETED = {"crane_registration": ("cranes_filed", "approved"), "use_registration": ("use_registrations", "approved"),
             "record_cancellation": ("cancellations", "approved")}
STARTED = {"installation_notice": "installation_notices"}


def _moments(start: date, end: date) -> tuple[datetime, datetime]:
    """The period's first and last day (inclusive, China time) as a half-open UTC interval."""
    return (datetime.combine(start, time(0), tzinfo=CHINA_TZ),
            datetime.combine(end + timedelta(days=1), time(0), tzinfo=CHINA_TZ))


def _case_counts(session: Session, codes, since: datetime, until: datetime) -> dict[str, int]:
    columns = []
    for key, (name, outcome) in COMPLETED.items():
        columns.append(func.sum(case((and_(ProcessInstance.process_key == key, ProcessInstance.outcome == outcome,
                                           ProcessInstance.completed_at >= since,
                                           ProcessInstance.completed_at < until), 1), else_=0)).label(name))
    for key, name in STARTED.items():
        columns.append(func.sum(case((and_(ProcessInstance.process_key == key, ProcessInstance.started_at >= since,
                                           ProcessInstance.started_at < until), 1), else_=0)).label(name))
    row = session.execute(select(*columns).where(
        ProcessInstance.process_key.in_([*COMPLETED, *STARTED]), ProcessInstance.region_code.in_(codes))).one()
    return {name: int(value or 0) for name, value in row._mapping.items()}


def _inspection_counts(session: Session, codes, start: date, end: date, since: datetime,
                       until: datetime) -> dict[str, int]:
    in_period = and_(Inspection.check_date >= start, Inspection.check_date <= end)
    went_overdue = and_(Inspection.overdue_since >= since, Inspection.overdue_since < until)
    row = session.execute(select(
        func.count(func.distinct(case((in_period, Inspection.id)))).label("inspections"),
        func.count(case((in_period, Hazard.id))).label("hazards"),
        func.count(func.distinct(case((went_overdue, Inspection.id)))).label("overdue_rectifications"),
    ).select_from(Inspection).outerjoin(Hazard, Hazard.inspection_id == Inspection.id).where(
        Inspection.region_code.in_(codes), (in_period | went_overdue))).one()
    return {name: int(value or 0) for name, value in row._mapping.items()}


def region_figures(session: Session, *, region_code: str, start: date, end: date) -> dict[str, int]:
    """Every pre-fill figure (PREFILL_SOURCES) for the region and everything below it."""
    codes = jurisdiction_codes(region_code)
    since, until = _moments(start, end)
    return {**_case_counts(session, codes, since, until),
            **_inspection_counts(session, codes, start, end, since, until)}


def prefilled_values(session: Session, fields: list[dict], *, region_code: str, start: date, end: date) -> dict:
    """The definition's pre-filled fields with their figures (nothing computed when none asks)."""
    wanted = {f["key"]: f["prefill"] for f in fields if f.get("prefill")}
    if not wanted:
        return {}
    figures = region_figures(session, region_code=region_code, start=start, end=end)
    return {key: figures[source] for key, source in wanted.items() if source in PREFILL_SOURCES}
