"""Due jobs: every timer of every case, and every dated check, as a row with its due time.

A sweep claims due rows (FOR UPDATE SKIP LOCKED, so any number of sweepers share the work) and
marks them queued; `fire` then runs one job in one transaction: it locks the job's case first (the
lock every transition of the case takes), then the job row, and changes the row's status in the
same transaction as the job's effect. A job therefore fires at most once, and a job whose worker
died is queued again by a later sweep and fires then.

Handlers are registered per kind with `handles(kind)`; they run inside the firing transaction, in a
savepoint: a handler that raises leaves no effect, and the job is marked failed with its error
(an incident an administrator can retry after a fix).
"""
import logging
from datetime import datetime, timedelta, timezone
from typing import Callable

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, undefer

from engine.db import DueJob, ProcessInstance, utcnow
from engine.db.base import insert_ignore
from engine.db.uow import unit_of_work
from engine.errors import Conflict, NotFound
from forms import t

log = logging.getLogger("craneflow.jobs")

ACTIVE = ("pending", "queued")
# A queued job that no worker has fired by then is queued again (its message was lost). Only
# done when the job queue is empty, so this can be short: a backlog is never sent twice.
REQUEUE_AFTER = timedelta(seconds=10)
ERROR_LIMIT = 2000

Handler = Callable[[Session, DueJob, ProcessInstance | None], None]
_HANDLERS: dict[str, Handler] = {}


class Busy(Exception):
    """The job's case is locked by a running transition: try again in a moment."""


def handles(kind: str):
    def register(fn: Handler) -> Handler:
        _HANDLERS[kind] = fn
        return fn
    return register


def _handler(kind: str) -> Handler:
    if kind not in _HANDLERS:
        from . import sweep  # noqa: F401  (imports every module that registers a handler)
    return _HANDLERS[kind]


def schedule(session: Session, *, kind: str, key: str, due_at: datetime, payload: dict | None = None,
             instance_id: int | None = None) -> int | None:
    """Add a job unless one with the same key exists; its id, or None."""
    return insert_ignore(session, DueJob, {
        "kind": kind, "key": key, "due_at": due_at, "payload": payload or {}, "instance_id": instance_id,
        "status": "pending", "attempts": 0, "created_at": utcnow()})


def cancel(session: Session, keys) -> None:
    """Drop jobs that no longer need to run (their key names them)."""
    keys = list(keys)
    if keys:
        session.execute(delete(DueJob).where(DueJob.key.in_(keys), DueJob.status.in_(ACTIVE)))


def timer_key(instance_id: int, task_id: str) -> str:
    return f"timer:{instance_id}:{task_id}"


def sync_case_timers(session: Session, instance: ProcessInstance, timers: dict[str, datetime]) -> None:
    """Make the case's timer jobs match its waiting timer events (task id -> due time).

    Called with the case locked, after every save of its workflow: one indexed read, and writes
    only for timers that appeared, moved or went away."""
    desired = {timer_key(instance.id, task_id): due for task_id, due in timers.items()}
    session.info["timers_waiting"] = set(desired)
    firing = session.info.get("firing_job")
    rows = session.execute(select(DueJob.id, DueJob.key, DueJob.status, DueJob.due_at).where(
        DueJob.instance_id == instance.id, DueJob.kind == "timer",
        or_(DueJob.status.in_(ACTIVE), DueJob.key.in_(list(desired))))).all()
    known = set()
    gone = []
    for row in rows:
        known.add(row.key)
        if row.key not in desired:
            if row.id != firing:
                gone.append(row.id)
        elif row.status in ACTIVE and row.due_at != desired[row.key]:
            session.execute(update(DueJob).where(DueJob.id == row.id).values(due_at=desired[row.key],
                                                                              status="pending"))
    if gone:
        session.execute(delete(DueJob).where(DueJob.id.in_(gone)))
    for key, due in desired.items():
        if key not in known:
            schedule(session, kind="timer", key=key, due_at=due, instance_id=instance.id)


def claim(bind, *, now: datetime | None = None, ahead: timedelta = timedelta(0), limit: int = 500,
          requeue_stale: bool = True) -> list[tuple[int, datetime]]:
    """Mark up to `limit` jobs due by `now + ahead` queued; their (id, due time), oldest due first.

    `ahead` lets a sweep hand out jobs due before its next tick, to be fired at their due time
    (a task with an ETA) rather than up to one tick late. With `requeue_stale`, jobs queued long
    ago and never fired are claimed again: the caller says so only when its queue is empty, so
    that a backlog still waiting in the queue is not sent twice."""
    now = now or utcnow()
    due = and_(DueJob.status == "pending", DueJob.due_at <= now + ahead)
    if requeue_stale:
        due = or_(due, and_(DueJob.status == "queued", DueJob.queued_at <= now - REQUEUE_AFTER))
    with unit_of_work(bind) as session:
        stmt = select(DueJob.id, DueJob.due_at).where(due).order_by(DueJob.due_at, DueJob.id).limit(limit)
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        rows = [(row.id, row.due_at) for row in session.execute(stmt)]
        if rows:
            session.execute(update(DueJob).where(DueJob.id.in_([i for i, _ in rows]))
                            .values(status="queued", queued_at=now))
    return rows


def claim_due(bind, *, now: datetime | None = None, limit: int = 500, requeue_stale: bool = True) -> list[int]:
    """The ids of the jobs due now, claimed (see `claim`)."""
    return [job_id for job_id, _ in claim(bind, now=now, limit=limit, requeue_stale=requeue_stale)]


def batches(claimed: list[tuple[int, datetime]], *, now: datetime, size: int = 10,
            spread: timedelta = timedelta(milliseconds=100)) -> list[tuple[list[int], datetime | None]]:
    """Group claimed jobs (sorted by due time) into batches for one worker task each: at most
    `size` jobs due within `spread` of each other; each batch with the moment it may start (its
    last due time), or None when all are due already."""
    out: list[tuple[list[int], datetime | None]] = []
    ids: list[int] = []
    first = last = None
    for job_id, due in claimed:
        due = due if due.tzinfo else due.replace(tzinfo=timezone.utc)
        if ids and (len(ids) >= size or due - first > spread):
            out.append((ids, last if last > now else None))
            ids = []
        if not ids:
            first = due
        ids.append(job_id)
        last = due
    if ids:
        out.append((ids, last if last > now else None))
    return out


def _lock_case(session: Session, instance_id: int, nowait: bool) -> ProcessInstance | None:
    stmt = select(ProcessInstance).where(ProcessInstance.id == instance_id).options(undefer(ProcessInstance.state))
    if session.get_bind().dialect.name != "sqlite":
        stmt = stmt.with_for_update(of=ProcessInstance, nowait=nowait)
    try:
        return session.execute(stmt.execution_options(populate_existing=True)).scalar_one_or_none()
    except OperationalError as exc:
        if nowait and "lock" in str(exc.orig).lower():
            raise Busy(instance_id) from None
        raise


def fire(bind, job_id: int, *, nowait: bool = False) -> str:
    """Run one job: 'fired', 'skipped' (already done, or gone), 'not_due', or 'failed'.
    With `nowait`, a case locked by another transaction raises Busy instead of waiting."""
    with unit_of_work(bind) as session:
        head = session.execute(select(DueJob.instance_id, DueJob.status).where(DueJob.id == job_id)).first()
        if head is None or head.status not in ACTIVE:
            return "skipped"
        instance = _lock_case(session, head.instance_id, nowait) if head.instance_id else None
        stmt = select(DueJob).where(DueJob.id == job_id)
        if session.get_bind().dialect.name != "sqlite":
            stmt = stmt.with_for_update(of=DueJob)
        job = session.execute(stmt.execution_options(populate_existing=True)).scalar_one_or_none()
        if job is None or job.status not in ACTIVE:
            return "skipped"
        now = utcnow()
        if job.due_at > now:
            job.status = "pending"
            return "not_due"
        job.attempts += 1
        session.info["firing_job"] = job.id
        try:
            with session.begin_nested():
                _handler(job.kind)(session, job, instance)
        except Busy:
            raise
        except Exception as exc:  # the savepoint dropped the handler's effects; keep the incident
            log.exception("job %s (%s) failed", job.id, job.key)
            _mark_failed(session, job, instance, exc)
            return "failed"
        if job.key in session.info.get("timers_waiting", ()):
            # The engine did not see the timer as due yet (clock granularity): try again shortly.
            job.status, job.due_at = "pending", now + timedelta(seconds=1)
            return "not_due"
        job.status, job.fired_at, job.last_error = "done", now, None
        job.lateness_ms = max(0, int((now - job.due_at).total_seconds() * 1000))
    return "fired"


def _mark_failed(session: Session, job: DueJob, instance: ProcessInstance | None, exc: Exception) -> None:
    from . import audit

    message = f"{type(exc).__name__}: {exc}"[:ERROR_LIMIT]
    job.status, job.last_error = "failed", message
    if instance is not None:
        instance.error = message
        audit.record(session, action="incident", instance=instance, job=job.id, kind=job.kind, error=message[:500])


def retry(session: Session, job_id: int, *, actor) -> DueJob:
    """Put a failed job back in the queue, due now, and clear its case's incident."""
    from . import audit

    job = session.get(DueJob, job_id, with_for_update=session.get_bind().dialect.name != "sqlite")
    if job is None:
        raise NotFound(t("ops_job_not_found"))
    if job.status != "failed":
        raise Conflict(t("ops_job_not_failed"))
    job.status, job.due_at, job.last_error = "pending", utcnow(), None
    if job.instance_id is not None:
        instance = session.get(ProcessInstance, job.instance_id)
        instance.error = None
        audit.record(session, action="incident_retry", actor=actor, instance=instance, job=job.id)
    else:
        audit.record(session, action="incident_retry", actor=actor, job=job.id)
    return job


def run_due(bind, *, now: datetime | None = None, limit: int = 500) -> int:
    """Claim and fire due jobs in this process (the embedded default and the tests); how many fired."""
    fired = 0
    for job_id in claim_due(bind, now=now, limit=limit):
        fired += fire(bind, job_id) == "fired"
    return fired
