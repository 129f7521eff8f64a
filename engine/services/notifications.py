"""Notifications, in-app and by email: a task for me or my office, a case returned to my enterprise,
a deadline approaching or passed, a certificate or a crane's safety assessment about to expire.

Each notification is a row per recipient, keyed by the event and the user (a second notify of the
same key adds nothing), written in the transaction of the event. Its email goes through the outbox
(topic "notify.email"), sent after commit and retried with backoff while the SMTP server is away.
Title and body are rendered from the kind and its parameters in the reader's language.
"""
import logging
import smtplib
from datetime import date, datetime, time, timedelta

from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from engine.bpmn.store import lock_task
from engine.db import (Certificate, Crane, DueJob, HumanTask, Notification, OperationRecord, Person,
                       ProcessInstance, User, utcnow)
from engine.db.base import insert_ignore
from engine.db.uow import unit_of_work
from engine.errors import NotFound
from forms.messages import MESSAGES, t
from workflows.catalog import get_entry

from . import audit, due_jobs, mailer, outbox
from .access import can_act_on
from .operations import latest_assessment
from .settings import CHINA_TZ, get_settings

log = logging.getLogger("craneflow.notifications")

EMAIL_TOPIC = "notify.email"
DEADLINE_JOB = "task_deadline"
EXPIRY_JOB = "expiry_notice"
# Expiry notices: (stage, days before the last valid day), sent at 09:00 China time.
EXPIRY_STAGES = (("30d", 30), ("0d", 0))
NOTICE_HOUR = time(9)
# Notifications opened for tasks in this transaction: (instance id, notification id, enterprise lane).
_OPENED = "craneflow_notified_tasks"


# --- writing ------------------------------------------------------------------------------------

def notify(session: Session, user: User, kind: str, key: str, params: dict, *, link: str | None = None,
           instance_id: int | None = None) -> int | None:
    """One notification for one user; its id, or None when this key was notified before. Its email
    is queued in the same transaction when the user has an address and SMTP is configured."""
    notification_id = insert_ignore(session, Notification, {
        "user_id": user.id, "kind": kind, "key": key, "params": params, "link": link,
        "instance_id": instance_id, "created_at": utcnow()})
    if notification_id is not None and user.email and mailer.get_settings().enabled:
        outbox.emit(session, EMAIL_TOPIC, key, {"notification_id": notification_id})
    return notification_id


def task_recipients(session: Session, task: HumanTask) -> list[User]:
    """The active users who may act on the task (the claimant alone while it is claimed)."""
    if task.claimed_by_id is not None:
        holder = session.get(User, task.claimed_by_id)
        return [holder] if holder is not None and can_act_on(holder, task) else []
    if task.role == "regulator":
        codes = [code for code in (task.region_code, task.city_code, task.province_code) if code]
        levels = [level for level in (task.levels or "").split(",") if level]
        if not codes or not levels:
            return []
        stmt = select(User).where(User.kind == "regulator", User.is_active.is_(True),
                                  User.region_code.in_(codes), User.regulator_level.in_(levels))
    elif task.enterprise_id is not None:
        stmt = select(User).where(User.enterprise_id == task.enterprise_id, User.is_active.is_(True))
    else:
        return []
    return [user for user in session.scalars(stmt.order_by(User.id)) if can_act_on(user, task)]


def enterprise_users(session: Session, enterprise_id: int | None) -> list[User]:
    if enterprise_id is None:
        return []
    return list(session.scalars(select(User).where(User.enterprise_id == enterprise_id, User.is_active.is_(True))
                                .order_by(User.id)))


def _task_params(instance: ProcessInstance, task: HumanTask) -> dict:
    return {"task": task.title, "case_title": instance.title or task.case_title, "process_key": instance.process_key,
            "business_key": instance.business_key or "", "due": task.due_at.isoformat() if task.due_at else None}


def tasks_opened(session: Session, instance: ProcessInstance, created: list[HumanTask]) -> None:
    """Tell those who may act on each new task, and schedule its deadline reminders."""
    opened = session.info.setdefault(_OPENED, [])
    for task in created:
        params = _task_params(instance, task)
        enterprise_lane = task.role != "regulator"
        for user in task_recipients(session, task):
            found = notify(session, user, "task_opened", f"notify:task_opened:{task.id}:{user.id}", params,
                           link=f"/tasks/{task.id}", instance_id=instance.id)
            if found is not None:
                opened.append((instance.id, found, enterprise_lane))
        _schedule_deadline(session, task)


def _schedule_deadline(session: Session, task: HumanTask) -> None:
    if task.due_at is None:
        return
    now = utcnow()
    due_day = task.due_at.astimezone(CHINA_TZ).date()
    eve = get_settings().calendar.subtract_workdays(due_day, 1)
    soon = datetime.combine(eve, NOTICE_HOUR, tzinfo=CHINA_TZ)
    if soon > now:  # a task due tomorrow is announced once, not reminded at once as well
        due_jobs.schedule(session, kind=DEADLINE_JOB, key=f"deadline:{task.id}:soon", due_at=soon,
                          payload={"task_id": task.id, "stage": "soon"})
    due_jobs.schedule(session, kind=DEADLINE_JOB, key=f"deadline:{task.id}:overdue",
                      due_at=task.due_at + timedelta(seconds=1), payload={"task_id": task.id, "stage": "overdue"})


def case_returned(session: Session, instance: ProcessInstance, reason: str | None) -> None:
    """The applicant's correction task, just announced as a new task, is announced as a return with
    the reason instead (one notification and one email, not two)."""
    opened = [nid for iid, nid, enterprise_lane in session.info.get(_OPENED, ())
              if iid == instance.id and enterprise_lane]
    if opened:
        for row in session.scalars(select(Notification).where(Notification.id.in_(opened))):
            row.kind, row.params = "case_returned", {**(row.params or {}), "reason": reason}
        return
    params = {"task": "", "case_title": instance.title, "process_key": instance.process_key,
              "business_key": instance.business_key or "", "reason": reason}
    for user in enterprise_users(session, instance.applicant_enterprise_id):
        notify(session, user, "case_returned", f"notify:case_returned:{instance.id}:{instance.version}:{user.id}",
               params, link=f"/cases/{instance.id}", instance_id=instance.id)


@audit.subscribe
def _on_audit_event(session: Session, found: audit.Event) -> None:
    detail = found.detail or {}
    if (found.action == "decision" and detail.get("decision") == "return" and found.instance is not None
            and getattr(found.actor, "kind", None) == "regulator"):
        case_returned(session, found.instance, detail.get("reason"))


@due_jobs.handles(DEADLINE_JOB)
def _task_deadline(session: Session, job: DueJob, instance: ProcessInstance | None) -> None:
    # The task row lock orders this with a completion of the task: a completed task gets nothing.
    task = lock_task(session, job.payload["task_id"])
    if task is None or task.status != "open":
        return
    case = session.get(ProcessInstance, task.instance_id)
    kind = "task_due_soon" if job.payload["stage"] == "soon" else "task_overdue"
    for user in task_recipients(session, task):
        notify(session, user, kind, f"notify:{kind}:{task.id}:{user.id}", _task_params(case, task),
               link=f"/tasks/{task.id}", instance_id=case.id)


# --- certificate and assessment expiry ----------------------------------------------------------

def expiry_jobs(subject: str, row_id: int, valid_until: date, now: datetime) -> list[dict]:
    """Due-job rows for the notices of one certificate or assessment (only those still ahead)."""
    jobs = []
    for stage, days in EXPIRY_STAGES:
        due_at = datetime.combine(valid_until - timedelta(days=days), NOTICE_HOUR, tzinfo=CHINA_TZ)
        if due_at > now:
            jobs.append({"kind": EXPIRY_JOB, "key": f"expiry:{subject}:{row_id}:{valid_until}:{stage}",
                         "due_at": due_at, "status": "pending", "attempts": 0, "created_at": now,
                         "payload": {"subject": subject, "id": row_id, "valid_until": valid_until.isoformat(),
                                     "stage": stage}})
    return jobs


def _schedule_on(connection, jobs: list[dict]) -> None:
    for job in jobs:
        insert_ignore(connection, DueJob, job)


# Scheduled as the rows are written, whichever service writes them (the registry, the operation
# records, an import): inside the flush, on its connection.
@event.listens_for(Certificate, "after_insert")
@event.listens_for(Certificate, "after_update")
def _certificate_written(mapper, connection, target: Certificate) -> None:
    if target.valid_until is not None:
        _schedule_on(connection, expiry_jobs("certificate", target.id, target.valid_until, utcnow()))


@event.listens_for(OperationRecord, "after_insert")
def _operation_recorded(mapper, connection, target: OperationRecord) -> None:
    if target.kind == "assessment" and target.valid_until is not None:
        _schedule_on(connection, expiry_jobs("assessment", target.id, target.valid_until, utcnow()))


def backfill_expiry_jobs(session: Session) -> int:
    """Schedule the notices of every certificate and assessment still valid (rows recorded before
    notifications existed); returns how many jobs were added."""
    now = utcnow()
    today = now.astimezone(CHINA_TZ).date()
    rows = [("certificate", i, d) for i, d in session.execute(
        select(Certificate.id, Certificate.valid_until).where(Certificate.valid_until >= today))]
    rows += [("assessment", i, d) for i, d in session.execute(
        select(OperationRecord.id, OperationRecord.valid_until).where(
            OperationRecord.kind == "assessment", OperationRecord.valid_until >= today))]
    added = 0
    for subject, row_id, valid_until in rows:
        for job in expiry_jobs(subject, row_id, valid_until, now):
            added += due_jobs.schedule(session, kind=job["kind"], key=job["key"], due_at=job["due_at"],
                                       payload=job["payload"]) is not None
    return added


@due_jobs.handles(EXPIRY_JOB)
def _expiry_notice(session: Session, job: DueJob, instance: ProcessInstance | None) -> None:
    payload = job.payload
    valid_until = date.fromisoformat(payload["valid_until"])
    days = (valid_until - utcnow().astimezone(CHINA_TZ).date()).days
    if days < 0:
        return  # fired after the last valid day (the sweep was down): the notice is out of date
    stage = "expiring" if payload["stage"] != "0d" else "expires_today"
    if payload["subject"] == "certificate":
        cert = session.get(Certificate, payload["id"])
        if cert is None or cert.valid_until != valid_until:
            return  # removed, or renewed (its new date has notices of its own)
        person = session.get(Person, cert.person_id)
        enterprise_id, link = person.enterprise_id, "/personnel"
        params = {"person": person.name, "number": cert.number, "valid_until": payload["valid_until"], "days": days}
    else:
        record = session.get(OperationRecord, payload["id"])
        # The crane's latest assessment decides (domain.md §3): an earlier one's expiry no longer matters.
        if record is None or record.valid_until != valid_until or latest_assessment(session, record.crane_id) != record:
            return
        crane = session.get(Crane, record.crane_id)
        enterprise_id, link = crane.owner_enterprise_id, f"/cranes/{crane.id}"
        params = {"crane": crane.record_number or f"{crane.model} {crane.factory_serial}",
                  "report": record.report_number or "—", "valid_until": payload["valid_until"], "days": days}
    kind = f"{payload['subject']}_{stage}"
    for user in enterprise_users(session, enterprise_id):
        notify(session, user, kind, f"notify:{kind}:{payload['id']}:{payload['valid_until']}:{user.id}",
               params, link=link)


# --- reading ------------------------------------------------------------------------------------

class _Blank(dict):
    def __missing__(self, key):
        return "—"


def _when(value: str | None, locale: str) -> str:
    if not value:
        return t("notify_no_deadline", locale)
    local = datetime.fromisoformat(value).astimezone(CHINA_TZ)
    if locale.startswith("zh"):
        return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
    return f"{local:%Y-%m-%d %H:%M}"


def case_label(params: dict, locale: str) -> str:
    """The case as the reader names it: the Chinese record, or the procedure's name in English."""
    title = params.get("case_title") or ""
    entry = get_entry(params["process_key"]) if params.get("process_key") else None
    if locale.startswith("zh") or entry is None or not entry.names.get(locale):
        return title
    return entry.name(locale)


def render(notification: Notification, locale: str) -> tuple[str, str]:
    """(title, body) in the reader's language."""
    params = dict(notification.params or {})
    values = _Blank({key: value for key, value in params.items() if value not in (None, "")})
    values.update(case=case_label(params, locale), due=_when(params.get("due"), locale),
                  reason=params.get("reason") or t("notify_no_reason", locale))
    title_key, body_key = f"notify_{notification.kind}_title", f"notify_{notification.kind}_body"
    if title_key not in MESSAGES:
        return notification.kind, ""
    return t(title_key, locale).format_map(values), t(body_key, locale).format_map(values)


def unread_count(session: Session, user: User) -> int:
    return session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)))


def list_notifications(session: Session, *, user: User, page: int = 1, per_page: int = 20,
                       unread_only: bool = False) -> tuple[list[Notification], int]:
    condition = Notification.user_id == user.id
    if unread_only:
        condition = condition & Notification.read_at.is_(None)
    total = session.scalar(select(func.count()).select_from(Notification).where(condition))
    rows = session.scalars(select(Notification).where(condition).order_by(Notification.id.desc())
                           .limit(per_page).offset((page - 1) * per_page)).all()
    return list(rows), total


def mark_read(session: Session, *, user: User, notification_id: int) -> Notification:
    """Only one's own: anyone else's notification is not found."""
    row = session.get(Notification, notification_id)
    if row is None or row.user_id != user.id:
        raise NotFound("notification not found")
    if row.read_at is None:
        row.read_at = utcnow()
    return row


def mark_all_read(session: Session, *, user: User) -> int:
    result = session.execute(update(Notification).where(Notification.user_id == user.id,
                                                        Notification.read_at.is_(None)).values(read_at=utcnow()))
    return result.rowcount


def set_contact(session: Session, *, user: User, email: str | None, locale: str) -> User:
    """The user's own notification email (None: in-app only) and language."""
    row = session.get(User, user.id)
    row.email, row.locale = email or None, locale
    return row


# --- email --------------------------------------------------------------------------------------

def email_for(notification: Notification, user: User) -> tuple[str, str]:
    """(subject, body) of the notification's email in the recipient's language."""
    locale = mailer.language_of(user.locale)
    title, body = render(notification, locale)
    params = notification.params or {}
    link = mailer.get_settings().base_url.rstrip("/") + notification.link if notification.link else None
    context = {"user": user.display_name, "title": title, "body": body, "link": link,
               "case": case_label(params, locale) if params.get("case_title") else None,
               "business_key": params.get("business_key") or None}
    return mailer.render("notification_subject", locale, **context).strip(), mailer.render("notification_body", locale, **context)


@outbox.topic(EMAIL_TOPIC, max_attempts=12, backoff_base=30.0)
def send_email(bind, message: outbox.Message) -> None:
    with Session(bind) as session:
        row = session.get(Notification, message.payload["notification_id"])
        user = session.get(User, row.user_id) if row is not None else None
        if row is None or row.emailed_at is not None or user is None or not user.is_active or not user.email:
            return  # gone, already sent, or nobody to send it to any more
        subject, body = email_for(row, user)
        address = user.email
    if not mailer.get_settings().enabled:
        log.info("SMTP is not configured: notification %s stays in-app", row.id)
        return
    msg = mailer.build(to=address, subject=subject, body=body, key=message.key)
    try:
        mailer.send(msg)
    except smtplib.SMTPResponseException as exc:
        if exc.smtp_code >= 500:  # refused for good (bad address, policy): retrying cannot help
            raise outbox.Permanent(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from exc
        raise
    except smtplib.SMTPRecipientsRefused as exc:
        if all(code >= 500 for code, _ in exc.recipients.values()):
            raise outbox.Permanent(f"recipient refused: {exc.recipients!r}") from exc
        raise
    with unit_of_work(bind) as session:
        session.execute(update(Notification).where(Notification.id == row.id, Notification.emailed_at.is_(None))
                        .values(emailed_at=utcnow()))
