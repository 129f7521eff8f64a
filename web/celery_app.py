"""The Celery application bound to a Flask app (entry point for workers: web.worker)."""
from celery import Celery

from engine import tasks

from .extensions import db

TIMER_SWEEP_SECONDS = 2.0


def make_celery(flask_app) -> Celery:
    broker = flask_app.config["REDIS_URL"]
    if not broker:
        raise RuntimeError("REDIS_URL is required for Celery workers (the embedded default needs none)")
    celery = Celery("craneflow", broker=broker, backend=broker)
    celery.conf.update(
        task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
        task_default_queue="craneflow", broker_connection_retry_on_startup=True, timezone="Asia/Shanghai",
        beat_schedule={"timer-sweep": {"task": "craneflow.fire_due_timers", "schedule": TIMER_SWEEP_SECONDS}},
    )
    celery.set_default()
    with flask_app.app_context():
        tasks.bind_engine(db.engine)
    return celery

