"""The Celery application bound to a Flask app (entry point for workers and beat: web.worker)."""
from celery import Celery

from engine import tasks
from engine.services import outbox

from . import observability
from .extensions import db

SWEEP_SECONDS = tasks.SWEEP_SECONDS


def make_celery(flask_app) -> Celery:
    broker = flask_app.config["REDIS_URL"]
    if not broker:
        raise RuntimeError("REDIS_URL is required for Celery workers (the embedded default needs none)")
    celery = Celery("craneflow", broker=broker, backend=broker)
    celery.conf.update(
        task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
        task_default_queue="craneflow", broker_connection_retry_on_startup=True, timezone="Asia/Shanghai",
        # The sweep has its own queue, so that a backlog of jobs never delays the next claim; a
        # tick no worker took within two seconds is dropped (the next one does its work).
        task_routes={"craneflow.sweep": {"queue": "craneflow.sweep"}},
        beat_schedule={"sweep": {"task": "craneflow.sweep", "schedule": SWEEP_SECONDS,
                                 "options": {"expires": 2 * SWEEP_SECONDS}}},
        broker_transport_options={"visibility_timeout": 300},
    )
    celery.set_default()
    observability.init_celery(celery, observability.log_format_of(flask_app.config))
    with flask_app.app_context():
        tasks.bind_engine(db.engine)
    # Messages emitted by this process go to the workers as soon as their transaction commits.
    outbox.set_dispatcher(lambda ids: [tasks.dispatch_message_task.delay(i) for i in ids])
    return celery
