"""In-process background loop for the embedded default (no Redis, no Celery)."""
import logging
import threading
import time

from flask import Flask

from engine.services.timers import fire_due_timers

from .extensions import db

log = logging.getLogger("craneflow.background")
INTERVAL_SECONDS = 2.0


def start_background_loop(app: Flask) -> threading.Thread:
    def loop():
        with app.app_context():
            engine = db.engine
        while True:
            try:
                fire_due_timers(engine)
            except Exception:  # keep sweeping; the failure is logged with its traceback
                log.exception("timer sweep failed")
            time.sleep(INTERVAL_SECONDS)

    thread = threading.Thread(target=loop, name="craneflow-timers", daemon=True)
    thread.start()
    return thread
