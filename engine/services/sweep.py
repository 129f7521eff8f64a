"""The sweep: the one periodic step of all background work, run every second or two by Celery
beat (production) or by a thread of the web process (embedded default).

It records a heartbeat, claims due jobs and ready outbox messages, and hands each id to a worker
(or runs it here when no queue is given). Importing this module registers every job and message
handler."""
import socket
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update

from engine.db import DueJob, OutboxMessage, WorkerHeartbeat, utcnow
from engine.db.base import insert_ignore
from engine.db.uow import unit_of_work

from . import audit_schedule, due_jobs, outbox
from . import reactions  # noqa: F401  (registers every job and message handler)


@dataclass(frozen=True)
class SweepResult:
    jobs: int
    messages: int


def heartbeat(bind, name: str | None = None) -> None:
    name = name or f"{socket.gethostname()}"
    with unit_of_work(bind) as session:
        now = utcnow()
        if insert_ignore(session, WorkerHeartbeat, {"name": name, "beat_at": now}, unique="name") is None:
            session.execute(update(WorkerHeartbeat).where(WorkerHeartbeat.name == name).values(beat_at=now))


# Fired jobs and delivered messages are kept this long (lateness figures, the operations page).
RETENTION = timedelta(days=30)
PURGE_EVERY_SECONDS = 3600
PURGE_BATCH = 5000
_last_purge = 0.0


def purge_finished(bind, *, now=None) -> int:
    """Delete one batch of jobs and messages finished before the retention period."""
    before = (now or utcnow()) - RETENTION
    with unit_of_work(bind) as session:
        jobs = select(DueJob.id).where(DueJob.status == "done", DueJob.fired_at < before).limit(PURGE_BATCH)
        messages = (select(OutboxMessage.id).where(OutboxMessage.status == "done", OutboxMessage.done_at < before)
                    .limit(PURGE_BATCH))
        removed = session.execute(delete(DueJob).where(DueJob.id.in_(jobs))).rowcount
        removed += session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(messages))).rowcount
    return removed


def sweep(bind, *, name: str | None = None, enqueue_jobs=None, enqueue_message=None, limit: int = 500,
          queue_empty: bool = True, ahead: timedelta = timedelta(0)) -> SweepResult:
    """Claim what is due and hand it on; without queues, run it here.

    `enqueue_jobs(ids, eta)` queues one batch of job ids to be fired at `eta` (None: now); `ahead`
    claims jobs due before the next tick so they start on time. `queue_empty`: no job is waiting
    in the queue, so a job queued long ago was lost and is queued again."""
    global _last_purge
    heartbeat(bind, name)
    if time.monotonic() - _last_purge > PURGE_EVERY_SECONDS:
        _last_purge = time.monotonic()
        purge_finished(bind)
        audit_schedule.request_daily(bind)
    if enqueue_jobs:
        claimed = due_jobs.claim(bind, ahead=ahead, limit=limit, requeue_stale=queue_empty)
        for ids, eta in due_jobs.batches(claimed, now=utcnow()):
            enqueue_jobs(ids, eta)
        jobs = len(claimed)
    else:
        jobs = due_jobs.run_due(bind, limit=limit)
    if enqueue_message:
        message_ids = outbox.claim_ready(bind, limit=limit)
        for message_id in message_ids:
            enqueue_message(message_id)
        return SweepResult(jobs, len(message_ids))
    return SweepResult(jobs, sum(outbox.run_ready(bind, limit=limit).values()))
