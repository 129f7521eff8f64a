"""Celery tasks: ids in, one service call, acknowledged late so a crashed worker's task is redelivered.

The worker process builds the Flask app once (web.celery_app) and hands the database engine over
with `bind_engine`; tasks never import the web layer.
"""
import random
import socket
from datetime import datetime, timedelta

from celery import shared_task
from sqlalchemy.engine import Engine

from engine.services import due_jobs, outbox, sweep

JOB_QUEUE = "craneflow"
SWEEP_SECONDS = 1.0
# Jobs due before the next tick (plus slack for a late tick) are handed out now, with an ETA.
LOOKAHEAD = timedelta(seconds=1.5 * SWEEP_SECONDS)
ETA_MARGIN = timedelta(milliseconds=5)
_bind: Engine | None = None


def bind_engine(engine: Engine) -> None:
    global _bind
    _bind = engine


def _engine() -> Engine:
    if _bind is None:
        raise RuntimeError("engine.tasks.bind_engine() was not called in this worker")
    return _bind


def _job_queue_empty(app) -> bool:
    try:
        with app.connection_for_read() as conn:
            return conn.default_channel.queue_declare(queue=JOB_QUEUE, passive=True).message_count == 0
    except Exception:  # cannot tell: requeueing lost jobs matters more than a duplicate message
        return True


@shared_task(name="craneflow.sweep", bind=True, acks_late=True, ignore_result=True)
def sweep_task(self, limit: int = 1000) -> tuple[int, int]:
    """Beat's tick: claim what is due (or falls due before the next tick) and queue it in batches."""
    result = sweep.sweep(_engine(), name=f"worker@{socket.gethostname()}", limit=limit,
                         enqueue_jobs=enqueue_jobs, enqueue_message=dispatch_message_task.delay,
                         queue_empty=_job_queue_empty(self.app), ahead=LOOKAHEAD)
    return result.jobs, result.messages


def enqueue_jobs(job_ids: list[int], eta: datetime | None = None) -> None:
    """Queue one batch of due jobs, to start at `eta` (its last due time) when that is still ahead."""
    # A few milliseconds past the due time, so that the engine never sees the timer a hair early.
    fire_jobs_task.apply_async(args=[job_ids], eta=eta + ETA_MARGIN if eta else None)


@shared_task(name="craneflow.fire_jobs", bind=True, acks_late=True, ignore_result=True, max_retries=100)
def fire_jobs_task(self, job_ids: list[int]) -> dict[str, int]:
    """Fire a batch of due jobs, each in its own transaction; those whose case is in the middle of
    a transition are retried together in a moment."""
    outcomes: dict[str, int] = {}
    busy = []
    for job_id in job_ids:
        try:
            outcome = due_jobs.fire(_engine(), job_id, nowait=True)
        except due_jobs.Busy:
            busy.append(job_id)
            continue
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    if busy:
        raise self.retry(args=[busy], countdown=0.1 + random.random() * 0.4)
    return outcomes


@shared_task(name="craneflow.fire_job", acks_late=True, ignore_result=True)
def fire_job_task(job_id: int) -> None:
    """One job (messages queued by an earlier release): fired as a batch of one."""
    fire_jobs_task.delay([job_id])


@shared_task(name="craneflow.dispatch_message", acks_late=True, ignore_result=True)
def dispatch_message_task(message_id: int) -> str:
    return outbox.dispatch(_engine(), message_id)
