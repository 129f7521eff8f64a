"""What the operators watch: background-job and outbox backlogs, incidents, worker heartbeats, timer
lateness and open tasks per city; and the two remedies, retrying a failed job and resending a dead
message (system administrators only).

Every figure is one grouped query on an indexed column, cheap enough to run on each metrics scrape.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.db import DueJob, HumanTask, OutboxMessage, ProcessInstance, WorkerHeartbeat, utcnow
from engine.db.jobs import JOB_STATES, MESSAGE_STATES
from engine.errors import InvalidInput, NotPermitted
from forms.messages import t

from . import audit, due_jobs, outbox

JOB_BACKLOG = ("pending", "queued", "failed")
MESSAGE_BACKLOG = ("pending", "running", "dead")
# Lateness figures only look at jobs due this long before their window (so the (status, due_at)
# index bounds the scan); a job fired later than that is an outage the backlog counts already show.
LATENESS_LOOKBACK = timedelta(days=1)


@dataclass(frozen=True)
class Lateness:
    """Timer lateness (fired_at - due_at) of the jobs fired in a window, in milliseconds."""

    count: int
    p50_ms: float | None
    p95_ms: float | None
    max_ms: int | None


def require_admin(actor) -> None:
    if actor is None or actor.kind != "admin":
        raise NotPermitted(t("ops_admin_only"))


# --- figures (also read by the metrics collector, which has no user) ----------------------------

def job_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(DueJob.status, func.count()).where(DueJob.status.in_(JOB_BACKLOG))
                           .group_by(DueJob.status)).all()
    return {status: 0 for status in JOB_BACKLOG} | {status: n for status, n in rows}


def message_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(OutboxMessage.status, func.count())
                           .where(OutboxMessage.status.in_(MESSAGE_BACKLOG)).group_by(OutboxMessage.status)).all()
    return {status: 0 for status in MESSAGE_BACKLOG} | {status: n for status, n in rows}


def open_tasks_by_city(session: Session) -> dict[str, int]:
    """Open inbox tasks per city code ("" for tasks without a region, e.g. enterprise-only steps)."""
    rows = session.execute(select(HumanTask.city_code, func.count()).where(HumanTask.status == "open")
                           .group_by(HumanTask.city_code)).all()
    return {city or "": n for city, n in rows}


def _quantile(values: list[int], q: float) -> float:
    """Linear interpolation between the closest ranks (what PostgreSQL's percentile_cont does)."""
    position = (len(values) - 1) * q
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def lateness(session: Session, *, window: timedelta, now: datetime | None = None) -> Lateness:
    now = now or utcnow()
    since = now - window
    where = (DueJob.status == "done", DueJob.due_at >= since - LATENESS_LOOKBACK, DueJob.fired_at >= since,
             DueJob.lateness_ms.is_not(None))
    if session.get_bind().dialect.name == "postgresql":
        row = session.execute(select(
            func.count(), func.percentile_cont(0.5).within_group(DueJob.lateness_ms),
            func.percentile_cont(0.95).within_group(DueJob.lateness_ms), func.max(DueJob.lateness_ms))
            .where(*where)).one()
        return Lateness(row[0], row[1], row[2], row[3])
    values = list(session.scalars(select(DueJob.lateness_ms).where(*where).order_by(DueJob.lateness_ms)))
    if not values:
        return Lateness(0, None, None, None)
    return Lateness(len(values), _quantile(values, 0.5), _quantile(values, 0.95), values[-1])


def heartbeats(session: Session, *, now: datetime | None = None) -> list[dict]:
    """Each background process's last sweep, newest first, with its age in seconds."""
    now = now or utcnow()
    rows = session.scalars(select(WorkerHeartbeat).order_by(WorkerHeartbeat.beat_at.desc())).all()
    return [{"name": r.name, "beat_at": r.beat_at, "age_seconds": round((now - r.beat_at).total_seconds(), 1)}
            for r in rows]


def newest_heartbeat(session: Session) -> datetime | None:
    return session.scalar(select(func.max(WorkerHeartbeat.beat_at)))


def overview(session: Session, actor, *, lateness_window: timedelta = timedelta(hours=1)) -> dict:
    require_admin(actor)
    return {"jobs": job_counts(session), "messages": message_counts(session),
            "lateness": lateness(session, window=lateness_window), "heartbeats": heartbeats(session)}


# --- lists --------------------------------------------------------------------------------------

def _page(session: Session, stmt, count_stmt, page: int, per_page: int) -> tuple[list, int]:
    total = session.scalar(count_stmt) or 0
    rows = session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return rows, total


def _one_of(field: str, value: str, allowed) -> None:
    if value not in allowed:
        raise InvalidInput({field: [t("one_of", choices=", ".join(allowed))]})


def jobs(session: Session, actor, *, status: str = "failed", page: int = 1, per_page: int = 20) -> tuple[list, int]:
    """Due jobs in one state (failed by default), newest due first, each with its case's business key:
    rows of (DueJob, business_key)."""
    require_admin(actor)
    _one_of("status", status, JOB_STATES)
    stmt = (select(DueJob, ProcessInstance.business_key)
            .outerjoin(ProcessInstance, ProcessInstance.id == DueJob.instance_id)
            .where(DueJob.status == status).order_by(DueJob.due_at.desc(), DueJob.id.desc()))
    count = select(func.count()).select_from(DueJob).where(DueJob.status == status)
    return _page(session, stmt, count, page, per_page)


def incidents(session: Session, actor, *, page: int = 1, per_page: int = 20) -> tuple[list, int]:
    """Cases whose background step failed (ProcessInstance.error set): rows of (ProcessInstance,)."""
    require_admin(actor)
    stmt = select(ProcessInstance).where(ProcessInstance.error.is_not(None)).order_by(ProcessInstance.id.desc())
    count = select(func.count()).select_from(ProcessInstance).where(ProcessInstance.error.is_not(None))
    return _page(session, stmt, count, page, per_page)


def messages(session: Session, actor, *, status: str = "dead", page: int = 1,
             per_page: int = 20) -> tuple[list, int]:
    """Outbox messages in one state (dead by default), newest first: rows of (OutboxMessage,)."""
    require_admin(actor)
    _one_of("status", status, MESSAGE_STATES)
    stmt = (select(OutboxMessage).where(OutboxMessage.status == status)
            .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()))
    count = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == status)
    return _page(session, stmt, count, page, per_page)


# --- remedies -----------------------------------------------------------------------------------

def retry_job(session: Session, actor, job_id: int) -> DueJob:
    """Queue a failed job again (audited; clears its case's incident)."""
    require_admin(actor)
    return due_jobs.retry(session, job_id, actor=actor)


def resend_message(session: Session, actor, message_id: int) -> OutboxMessage:
    """Send a dead message again, with a fresh count of attempts (audited)."""
    require_admin(actor)
    msg = outbox.resend(session, message_id)
    audit.record(session, action="outbox_resend", actor=actor, message=msg.id, topic=msg.topic, key=msg.key)
    return msg
