"""Inbox listing: reads HumanTask rows only, never a workflow state."""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from engine.db import Crane, Enterprise, HumanTask, ProcessInstance, User, utcnow
from engine.db.base import like_escape
from engine.domain.regions import get_region

from .access import inbox_filter
from .settings import CHINA_TZ, get_settings

MAX_PER_PAGE = 100
# Counting every open task of a province is a scan; past this many an exact total helps nobody.
COUNT_CAP = 1000
# A task due within this many working days is flagged as due soon.
DUE_SOON_WORKDAYS = 1


@dataclass
class InboxPage:
    tasks: list[HumanTask]
    total: int  # exact up to COUNT_CAP; see total_capped
    page: int
    per_page: int
    total_capped: bool = False


@dataclass(frozen=True)
class Sla:
    """A task's standing against its due date, in working days of the configured calendar."""

    state: str  # overdue | due_soon | on_track
    workdays_left: int  # negative once overdue


def task_sla(due_at: datetime | None, now: datetime | None = None, calendar=None) -> Sla | None:
    if due_at is None:
        return None
    now = now or utcnow()
    calendar = calendar or get_settings().calendar
    left = calendar.workdays_between(now.astimezone(CHINA_TZ).date(), due_at.astimezone(CHINA_TZ).date())
    if now > due_at:
        return Sla("overdue", min(left, 0))
    return Sla("due_soon" if left <= DUE_SOON_WORKDAYS else "on_track", left)


def search_condition(q: str):
    """Tasks whose case matches `q`: a part of the case title (enterprise and project names) or of
    the applicant's name, or the start of the business key, the crane's record number or the
    applicant's credit code. Every branch is a keyed lookup or bounded by the inbox condition."""
    contains = f"%{like_escape(q)}%"
    prefix = f"{like_escape(q.upper())}%"
    applicants = select(Enterprise.id).where(or_(Enterprise.name.like(contains, escape="\\"),
                                                 Enterprise.uscc.like(prefix, escape="\\")))
    cranes = select(Crane.id).where(Crane.record_number.like(prefix, escape="\\"))
    cases = select(ProcessInstance.id).where(or_(
        ProcessInstance.business_key.like(prefix, escape="\\"),
        ProcessInstance.applicant_enterprise_id.in_(applicants),
        and_(ProcessInstance.subject_type == "crane", ProcessInstance.subject_id.in_(cranes))))
    return or_(HumanTask.case_title.like(contains, escape="\\"), HumanTask.instance_id.in_(cases))


def region_condition(code: str):
    """Tasks in a region: a province, a city or a county (each has its own indexed column)."""
    level = getattr(get_region(code), "level", "county")
    column = {"province": HumanTask.province_code, "city": HumanTask.city_code}.get(level, HumanTask.region_code)
    return column == code


def list_inbox(session: Session, *, user: User, process_key: str | None = None, status: str = "open",
               page: int = 1, per_page: int = 20, region: str | None = None, overdue: bool = False,
               claimed: str | None = None, q: str | None = None, sort: str = "due_asc",
               now: datetime | None = None) -> InboxPage:
    """Open tasks the user may act on, or (status="completed") tasks the user completed.

    `claimed` is "me" (claimed by the user) or "unclaimed"; `overdue` keeps tasks past their due
    time; `region` is a code the caller has checked against the user's jurisdiction."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(1, page)
    if status == "completed":
        condition = (HumanTask.status == "completed") & (HumanTask.completed_by_id == user.id)
    else:
        condition = (HumanTask.status == "open") & inbox_filter(user)
    if process_key:
        condition = condition & (HumanTask.process_key == process_key)
    if region:
        condition = condition & region_condition(region)
    if overdue:
        condition = condition & (HumanTask.due_at < (now or utcnow()))
    if claimed == "me":
        condition = condition & (HumanTask.claimed_by_id == user.id)
    elif claimed == "unclaimed":
        condition = condition & HumanTask.claimed_by_id.is_(None)
    if q:
        condition = condition & search_condition(q)
    window = max(COUNT_CAP, page * per_page) + 1
    counted = select(HumanTask.id).where(condition).limit(window).subquery()
    total = session.scalar(select(func.count()).select_from(counted))
    due = HumanTask.due_at.desc() if sort == "due_desc" else HumanTask.due_at.asc()
    rows = session.scalars(
        select(HumanTask).where(condition).options(selectinload(HumanTask.claimed_by))
        .order_by(due.nulls_last(), HumanTask.id)
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    capped = total >= window
    return InboxPage(tasks=list(rows), total=min(total, window - 1), page=page, per_page=per_page,
                     total_capped=capped)
