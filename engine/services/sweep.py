"""The sweep: the one periodic step of all background work, run every second or two by Celery
beat (production) or by a thread of the web process (embedded default).

It records a heartbeat, claims due jobs and ready outbox messages, and hands each id to a worker
(or runs it here when no queue is given). Importing this module registers every job and message
handler."""
import socket
from dataclasses import dataclass

from sqlalchemy import update

from engine.db import WorkerHeartbeat, utcnow
from engine.db.base import insert_ignore
from engine.db.uow import unit_of_work

from . import due_jobs, outbox
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


def sweep(bind, *, name: str | None = None, enqueue_job=None, enqueue_message=None, limit: int = 500) -> SweepResult:
    """Claim what is due and hand it on; without queues, run it here."""
    heartbeat(bind, name)
    job_ids = due_jobs.claim_due(bind, limit=limit)
    for job_id in job_ids:
        enqueue_job(job_id) if enqueue_job else due_jobs.fire(bind, job_id)
    if enqueue_message:
        message_ids = outbox.claim_ready(bind, limit=limit)
        for message_id in message_ids:
            enqueue_message(message_id)
        return SweepResult(len(job_ids), len(message_ids))
    return SweepResult(len(job_ids), sum(outbox.run_ready(bind, limit=limit).values()))
