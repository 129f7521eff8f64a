"""The enterprise dashboard: returned tasks with the reason, open tasks, cases with their current
step and holder, and drafts. Reads indexed rows only (tasks, cases, audit events by case), in a
fixed number of queries however many cases there are; never a workflow state."""
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, or_, select, true
from sqlalchemy.orm import Session, selectinload

from engine.db import AuditEvent, Certificate, Crane, Enterprise, HumanTask, Person, ProcessInstance, User
from engine.db.base import like_escape
from engine.domain.regions import LEVELS

from .access import case_filter, crane_filter, inbox_filter
from .personnel import visible_filter as person_scope
from .drafts import DraftEntry, list_drafts

# Events that send work back to the applicant with a reason to act on.
SENT_BACK = ("returned_by_parties", "acceptance_failed", "inspection_failed")
REASONED = ("decision",) + SENT_BACK
MAX_OPEN_TASKS = 50  # the dashboard lists at most this many of the enterprise's open tasks


def return_reason(history, task):
    """The reason the work came back, shown above the open correction form: the latest reasoned
    event, when it was a return (or a failed check) and no decision came after it."""
    if task.status != "open" or task.enterprise_id is None:
        return None
    for event in reversed(history):
        detail = event.detail or {}
        if detail.get("decision") or event.action in SENT_BACK:
            sent_back = detail.get("decision") in ("return", "fail") or event.action in SENT_BACK
            return event if sent_back and detail.get("reason") else None
    return None


@dataclass(frozen=True)
class Holder:
    """Who holds a task now: a claiming regulator (`user`), an enterprise, or an office."""

    kind: str  # user | enterprise | office | role
    name: str = ""
    level: str = ""
    region_code: str = ""


def _offices(task: HumanTask) -> list[tuple[str, str]]:
    """(level, region code) of the offices that may act on a regulator task, lowest level first."""
    allowed = (task.levels or "").split(",")
    codes = {"county": task.region_code, "city": task.city_code, "province": task.province_code}
    return [(level, codes[level]) for level in reversed(LEVELS) if level in allowed and codes[level]]


def _staffed_offices(session: Session, tasks: list[HumanTask]) -> set[tuple[str, str]]:
    """Of the offices that may act on `tasks`, those with an active regulator account (one query)."""
    codes = {code for t in tasks if t.role == "regulator" for _, code in _offices(t)}
    if not codes:
        return set()
    return set(session.execute(select(User.regulator_level, User.region_code).distinct().where(
        User.kind == "regulator", User.is_active.is_(True), User.region_code.in_(codes))).all())


def task_holder(task: HumanTask, enterprise_names: dict[int, str], staffed: set[tuple[str, str]]) -> Holder:
    if task.claimed_by_id:
        return Holder("user", task.claimed_by.display_name)
    if task.enterprise_id is not None:
        return Holder("enterprise", enterprise_names.get(task.enterprise_id, ""))
    offices = _offices(task) if task.role == "regulator" else []
    if offices:
        # The lowest office that has staff handles it in the normal course; higher levels oversee.
        level, code = next((o for o in offices if o in staffed), offices[0])
        return Holder("office", level=level, region_code=code)
    return Holder("role", task.role)


@dataclass
class Dashboard:
    returned: list[tuple[HumanTask, AuditEvent]] = field(default_factory=list)
    open_tasks: list[HumanTask] = field(default_factory=list)
    cases: list[ProcessInstance] = field(default_factory=list)
    total: int = 0
    case_tasks: dict[int, list[HumanTask]] = field(default_factory=dict)
    holders: dict[int, Holder] = field(default_factory=dict)
    drafts: list[DraftEntry] = field(default_factory=list)


def _returned(session: Session, tasks: list[HumanTask]) -> dict[int, AuditEvent]:
    """Task id → the return that sent it back, for those of `tasks` that came back (one query)."""
    ids = {t.instance_id for t in tasks if t.enterprise_id is not None}
    if not ids:
        return {}
    history: dict[int, list[AuditEvent]] = {}
    for event in session.scalars(select(AuditEvent).where(AuditEvent.instance_id.in_(ids),
                                                          AuditEvent.action.in_(REASONED))
                                 .order_by(AuditEvent.id)):
        history.setdefault(event.instance_id, []).append(event)
    found = {}
    for task in tasks:
        reason = return_reason(history.get(task.instance_id, []), task)
        if reason is not None:
            found[task.id] = reason
    return found


def case_condition(user: User, status: str | None = None, process_key: str | None = None):
    condition = case_filter(user)
    if status:
        condition = condition & (ProcessInstance.status == status)
    if process_key:
        condition = condition & (ProcessInstance.process_key == process_key)
    return condition


def dashboard(session: Session, *, user: User, status: str | None = None, process_key: str | None = None,
              page: int = 1, per_page: int = 20) -> Dashboard:
    out = Dashboard()
    if user.kind == "enterprise":
        mine = list(session.scalars(
            select(HumanTask).where((HumanTask.status == "open") & inbox_filter(user))
            .order_by(HumanTask.due_at.asc().nulls_last(), HumanTask.id).limit(MAX_OPEN_TASKS)))
        reasons = _returned(session, mine)
        out.returned = [(t, reasons[t.id]) for t in mine if t.id in reasons]
        out.open_tasks = [t for t in mine if t.id not in reasons]
        out.drafts = list_drafts(session, user=user)
    condition = case_condition(user, status, process_key)
    out.total = session.scalar(select(func.count()).select_from(ProcessInstance).where(condition))
    out.cases = list(session.scalars(select(ProcessInstance).where(condition)
                                     .order_by(ProcessInstance.id.desc())
                                     .limit(per_page).offset((page - 1) * per_page)))
    ids = [c.id for c in out.cases]
    tasks = list(session.scalars(
        select(HumanTask).where(HumanTask.instance_id.in_(ids), HumanTask.status == "open")
        .options(selectinload(HumanTask.claimed_by)).order_by(HumanTask.id))) if ids else []
    for task in tasks:
        out.case_tasks.setdefault(task.instance_id, []).append(task)
    enterprise_ids = {t.enterprise_id for t in tasks if t.enterprise_id is not None and not t.claimed_by_id}
    names = dict(session.execute(select(Enterprise.id, Enterprise.name)
                                 .where(Enterprise.id.in_(enterprise_ids))).all()) if enterprise_ids else {}
    staffed = _staffed_offices(session, tasks)
    out.holders = {t.id: task_holder(t, names, staffed) for t in tasks}
    return out


# --- my cranes and my personnel, with filters -----------------------------------------------------

def list_cranes(session: Session, *, user: User, state: str | None = None, crane_type: str | None = None,
                q: str | None = None, page: int = 1, per_page: int = 20) -> tuple[list[Crane], int]:
    """Cranes the user may see, by lifecycle state, type and the start of the record number or
    factory serial."""
    condition = crane_filter(user)
    if state:
        condition = condition & (Crane.status == state)
    if crane_type:
        condition = condition & (Crane.crane_type == crane_type)
    if q:
        prefix = f"{like_escape(q.strip().upper())}%"
        condition = condition & or_(Crane.record_number.like(prefix, escape="\\"),
                                    func.upper(Crane.factory_serial).like(prefix, escape="\\"))
    total = session.scalar(select(func.count()).select_from(Crane).where(condition))
    rows = session.scalars(select(Crane).where(condition).order_by(Crane.id.desc()).limit(per_page).offset((page - 1) * per_page))
    return list(rows), total


EXPIRING_DAYS = 30
VALIDITY = ("valid", "expiring", "expired")


def certificate_validity(valid_until: date, today: date) -> str:
    if valid_until < today:
        return "expired"
    return "expiring" if valid_until <= today + timedelta(days=EXPIRING_DAYS) else "valid"


def list_personnel(session: Session, *, user: User, today: date, validity: str | None = None, q: str | None = None,
                   page: int = 1, per_page: int = 20) -> tuple[list[Person], int]:
    """Personnel the user may see, by certificate validity (a person with any certificate in that
    state) and by part of the name or the start of a certificate number."""
    condition = person_scope(user)
    condition = true() if condition is None else condition
    if validity in VALIDITY:
        soon = today + timedelta(days=EXPIRING_DAYS)
        held = {"expired": Certificate.valid_until < today,
                "expiring": (Certificate.valid_until >= today) & (Certificate.valid_until <= soon),
                "valid": Certificate.valid_until > soon}[validity]
        condition = condition & Person.id.in_(select(Certificate.person_id).where(held))
    if q:
        text = like_escape(q.strip())
        condition = condition & or_(Person.name.like(f"%{text}%", escape="\\"), Person.id.in_(
            select(Certificate.person_id).where(Certificate.number.like(f"{text}%", escape="\\"))))
    total = session.scalar(select(func.count()).select_from(Person).where(condition))
    rows = session.scalars(select(Person).where(condition).order_by(Person.id.desc())
                           .limit(per_page).offset((page - 1) * per_page))
    return list(rows), total
