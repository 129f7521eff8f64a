"""Celery tasks: ids in, one service call, acknowledged late so a crashed worker's task is redelivered.

The worker process builds the Flask app once (web.celery_app) and hands the database engine over
with `bind_engine`; tasks never import the web layer.
"""
import random
import socket

from celery import shared_task
from sqlalchemy.engine import Engine

from engine.services import due_jobs, outbox, sweep

JOB_QUEUE = "craneflow"
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
    """Beat's tick: claim what is due and queue one task per job and per message."""
    result = sweep.sweep(_engine(), name=f"worker@{socket.gethostname()}", limit=limit,
                         enqueue_job=fire_job_task.delay, enqueue_message=dispatch_message_task.delay,
                         queue_empty=_job_queue_empty(self.app))
    return result.jobs, result.messages


@shared_task(name="craneflow.fire_job", bind=True, acks_late=True, ignore_result=True, max_retries=100)
def fire_job_task(self, job_id: int) -> str:
    """Fire one due job; if its case is in the middle of a transition, retry in a moment."""
    try:
        return due_jobs.fire(_engine(), job_id, nowait=True)
    except due_jobs.Busy as exc:
        raise self.retry(exc=exc, countdown=0.1 + random.random() * 0.4)


@shared_task(name="craneflow.dispatch_message", acks_late=True, ignore_result=True)
def dispatch_message_task(message_id: int) -> str:
    return outbox.dispatch(_engine(), message_id)
