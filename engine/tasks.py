"""Celery tasks: ids in, one service call, acknowledged late so a crashed worker's task is redelivered.

The worker process builds the Flask app once (web.celery_app) and hands the database engine over
with `bind_engine`; tasks never import the web layer.
"""
from celery import shared_task
from sqlalchemy.engine import Engine

from engine.services.timers import fire_due_timers

_bind: Engine | None = None


def bind_engine(engine: Engine) -> None:
    global _bind
    _bind = engine


def _engine() -> Engine:
    if _bind is None:
        raise RuntimeError("engine.tasks.bind_engine() was not called in this worker")
    return _bind


@shared_task(name="craneflow.fire_due_timers", acks_late=True, ignore_result=False)
def fire_due_timers_task(limit: int = 200) -> int:
    """Advance every case whose timer is due (claimed with SKIP LOCKED: safe with many workers)."""
    return fire_due_timers(_engine(), limit=limit)
