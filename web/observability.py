"""Request ids and structured logs.

Every request carries an id: the caller's `X-Request-ID` when it is a sane token, else a new one;
it is echoed in the response and stamped on every log record written while the request runs (and
a Celery task's id on the records of that task). With LOG_FORMAT=json (the default when
BACKGROUND=celery) each record is one JSON object per line; one access line per request gives
method, path, route, status and duration.
"""
import json
import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from datetime import datetime, timezone

from flask import Flask, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# Set while a Celery task runs (web requests use flask.g).
current_task_id: ContextVar[str | None] = ContextVar("craneflow_task_id", default=None)

access_log = logging.getLogger("craneflow.access")
# Fields a record may carry beyond the standard ones; each goes into the JSON line when set.
_FIELDS = ("request_id", "task_id", "user_id", "method", "path", "route", "status", "duration_ms", "remote_addr")


def request_id_from(header: str | None) -> str:
    """The caller's id when it is a token of at most 64 [A-Za-z0-9._-], else a fresh uuid4 hex."""
    if header and _SANE_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


class ContextFilter(logging.Filter):
    """Stamps the current request id, user id or Celery task id on each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            if getattr(record, "request_id", None) is None:
                record.request_id = g.get("request_id")
            if getattr(record, "user_id", None) is None:
                user = g.get("user")
                record.user_id = getattr(user, "id", None) if user is not None else None
        task_id = current_task_id.get()
        if task_id is not None and getattr(record, "task_id", None) is None:
            record.task_id = task_id
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts (ISO 8601, UTC), level, logger, message and the context fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        for name in _FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(context)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        record.context = getattr(record, "request_id", None) or getattr(record, "task_id", None) or "-"
        return super().format(record)


def formatter_for(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else TextFormatter()


def log_format_of(config) -> str:
    """LOG_FORMAT, else json for the production setup (BACKGROUND=celery) and text otherwise."""
    chosen = (config.get("LOG_FORMAT") or "").lower()
    if chosen in ("json", "text"):
        return chosen
    return "json" if config.get("BACKGROUND") == "celery" else "text"


def configure_logging(log_format: str, stream=None, level=logging.INFO) -> logging.Handler:
    """Put one handler with the chosen format on the root logger (replacing the one set before)."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "craneflow", False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.craneflow = True
    handler.setFormatter(formatter_for(log_format))
    handler.addFilter(ContextFilter())
    root.addHandler(handler)
    if root.level > level or root.level == logging.NOTSET:
        root.setLevel(level)
    return handler


def format_handlers(handlers, log_format: str) -> None:
    """Give handlers set up by someone else (Celery's) the chosen format and the context filter."""
    for handler in handlers:
        handler.setFormatter(formatter_for(log_format))
        if not any(isinstance(f, ContextFilter) for f in handler.filters):
            handler.addFilter(ContextFilter())


def _start():
    g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
    g.request_started = time.perf_counter()


def _finish(response):
    request_id = g.get("request_id")
    if request_id is None:  # a request that failed before the first hook ran
        return response
    response.headers[REQUEST_ID_HEADER] = request_id
    duration = time.perf_counter() - g.get("request_started", time.perf_counter())
    route = request.url_rule.rule if request.url_rule is not None else None
    from . import metrics

    metrics.observe_request(request.method, route, response.status_code, duration)
    if request.endpoint != "static":
        access_log.info("%s %s %s", request.method, request.path, response.status_code, extra={
            "method": request.method, "path": request.path, "route": route, "status": response.status_code,
            "duration_ms": round(duration * 1000, 2), "remote_addr": request.remote_addr})
    return response


def init_app(app: Flask) -> None:
    # First in line, so that every later hook (and its log records) sees the request id.
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_finish)
    if not app.config.get("TESTING"):
        configure_logging(log_format_of(app.config))


def init_celery(celery, log_format: str) -> None:
    """Celery workers: the task id on every record of a task, and the chosen format on Celery's handlers."""
    from celery.signals import after_setup_logger, after_setup_task_logger, task_postrun, task_prerun

    tokens = {}

    def started(task_id=None, **_):
        tokens[task_id] = current_task_id.set(task_id)

    def finished(task_id=None, **_):
        token = tokens.pop(task_id, None)
        if token is not None:
            current_task_id.reset(token)

    def setup(logger=None, **_):
        if logger is not None:
            format_handlers(logger.handlers, log_format)

    # dispatch_uid: a second call (another app in the same process) replaces nothing and adds nothing.
    task_prerun.connect(started, weak=False, dispatch_uid="craneflow.task_id.start")
    task_postrun.connect(finished, weak=False, dispatch_uid="craneflow.task_id.finish")
    after_setup_logger.connect(setup, weak=False, dispatch_uid="craneflow.log_format")
    after_setup_task_logger.connect(setup, weak=False, dispatch_uid="craneflow.task_log_format")
