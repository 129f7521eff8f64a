"""Background work of the web process.

- "inprocess" (embedded default: no Redis): a thread runs the sweep every second, and at once
  when a transaction has emitted outbox messages.
- "celery": messages are handed to the Celery workers after commit; beat runs the sweep.
- "off": nothing runs by itself (tests drive the sweep).
"""
import logging
import threading

from flask import Flask

from engine.services import outbox, sweep

from .extensions import db

log = logging.getLogger("craneflow.background")
INTERVAL_SECONDS = 1.0


def start_background(app: Flask) -> threading.Thread | None:
    mode = app.config["BACKGROUND"]
    if mode == "celery":
        from .celery_app import make_celery

        make_celery(app)
    elif mode == "inprocess":
        return _start_loop(app)
    return None


def _start_loop(app: Flask) -> threading.Thread:
    with app.app_context():
        engine = db.engine
    wake = threading.Event()
    outbox.set_dispatcher(lambda ids: wake.set())

    def loop():
        while True:
            try:
                sweep.sweep(engine, name="web-inprocess")
            except Exception:  # keep sweeping; the failure is logged with its traceback
                log.exception("background sweep failed")
            wake.wait(INTERVAL_SECONDS)
            wake.clear()

    thread = threading.Thread(target=loop, name="craneflow-background", daemon=True)
    thread.start()
    return thread
