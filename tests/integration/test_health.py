"""Liveness and readiness probes, request ids and structured (JSON) logs."""
import io
import json
import logging
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event

from engine.db import WorkerHeartbeat, utcnow
from engine.db.uow import unit_of_work
from engine.services import sweep
from tests.integration.test_pages_security import _browser
from web import observability


def test_healthz_answers_without_login_and_without_touching_the_database(app, world):
    browser = _browser(app, "reg_wuhan")  # a session cookie that would otherwise load the user
    statements = []

    def count(*_):
        statements.append(1)

    event.listen(world.engine, "before_cursor_execute", count)
    try:
        r = browser.get("/healthz")
    finally:
        event.remove(world.engine, "before_cursor_execute", count)
    assert r.status_code == 200 and r.get_json() == {"status": "ok"}
    assert statements == []


def test_readyz_checks_the_database(client, world, database_url):
    r = client.get("/readyz")
    assert r.status_code == 200, r.get_data(as_text=True)
    body = r.get_json()
    assert body["status"] == "ok" and "failing" not in body
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["database"]["latency_ms"] >= 0
    assert "heartbeat" not in body["checks"]  # BACKGROUND=off: nothing sweeps by itself
    text = r.get_data(as_text=True)
    assert database_url.split("@")[-1] not in text and "secret" not in text.lower()


def _beat(engine, name, age_seconds):
    with unit_of_work(engine) as s:
        s.add(WorkerHeartbeat(name=name, beat_at=utcnow() - timedelta(seconds=age_seconds)))


def test_readyz_fails_on_a_missing_or_stale_heartbeat_when_background_work_is_expected(app, client, world,
                                                                                     monkeypatch):
    monkeypatch.setitem(app.config, "BACKGROUND", "inprocess")
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.get_json()["failing"] == ["heartbeat"] and r.get_json()["checks"]["heartbeat"]["age_seconds"] is None

    _beat(world.engine, "web-inprocess", 60)
    r = client.get("/readyz")
    body = r.get_json()
    assert r.status_code == 503 and body["status"] == "fail" and body["failing"] == ["heartbeat"]
    assert body["checks"]["heartbeat"]["age_seconds"] >= 60
    assert body["checks"]["database"]["status"] == "ok"

    sweep.heartbeat(world.engine, "web-inprocess")  # what every sweep writes
    r = client.get("/readyz")
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json()["checks"]["heartbeat"]["age_seconds"] < 15


@pytest.mark.redis
def test_readyz_pings_redis_when_configured(app, client, world, monkeypatch, redis_url):
    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)
    r = client.get("/readyz")
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json()["checks"]["redis"]["status"] == "ok"

    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/13")  # nothing listens there
    r = client.get("/readyz")
    body = r.get_json()
    assert r.status_code == 503 and body["failing"] == ["redis"]
    assert body["checks"]["redis"]["error"] == "ConnectionError"
    assert "127.0.0.1" not in r.get_data(as_text=True)


@pytest.mark.parametrize("sent", ["req-42", "A.b_c-9", "x" * 64])
def test_a_sane_request_id_is_echoed(client, world, sent):
    r = client.get("/healthz", headers={"X-Request-ID": sent})
    assert r.headers["X-Request-ID"] == sent


@pytest.mark.parametrize("sent", [None, "", "x" * 65, "has space", "a/b", "<script>", "ünï"])
def test_a_missing_or_unsafe_request_id_is_replaced_by_a_fresh_one(client, world, sent):
    headers = {"X-Request-ID": sent} if sent is not None else {}
    first = client.get("/login", headers=headers).headers["X-Request-ID"]
    second = client.get("/login", headers=headers).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first) and re.fullmatch(r"[0-9a-f]{32}", second)
    assert first != second


def _lines(stream) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


@pytest.fixture
def json_log():
    """The application's JSON log handler writing into a buffer for the duration of a test."""
    root = logging.getLogger()
    level = root.level
    stream = io.StringIO()
    handler = observability.configure_logging("json", stream=stream)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def test_access_log_is_one_json_object_per_line_with_request_and_user(api, json_log):
    admin = api("admin")
    r = admin.get("/api/v1/me", headers={"X-Request-ID": "trace-0001"})
    assert r.status_code == 200
    (line,) = [x for x in _lines(json_log) if x["logger"] == "craneflow.access" and x.get("request_id") == "trace-0001"]
    assert line["level"] == "INFO" and line["message"] == "GET /api/v1/me 200"
    assert line["user_id"] == admin.user["id"]
    assert (line["method"], line["path"], line["route"], line["status"]) == ("GET", "/api/v1/me", "/api/v1/me", 200)
    assert line["duration_ms"] >= 0
    assert datetime.fromisoformat(line["ts"]).tzinfo is not None


def test_records_logged_while_handling_a_request_carry_its_id(app, client, world, json_log, monkeypatch):
    from web import health

    def broken():
        logging.getLogger("craneflow.test").warning("database probe failed")
        raise RuntimeError("down")

    monkeypatch.setattr(health, "_database", broken)
    r = client.get("/readyz", headers={"X-Request-ID": "probe-7"})
    assert r.status_code == 503 and r.get_json()["failing"] == ["database"]
    assert r.get_json()["checks"]["database"]["error"] == "RuntimeError"
    warning = [x for x in _lines(json_log) if x["logger"] == "craneflow.test"]
    assert [(x["level"], x["request_id"]) for x in warning] == [("WARNING", "probe-7")]
    assert "user_id" not in warning[0]  # nobody logged in


def test_a_celery_task_stamps_its_task_id_on_its_records(json_log):
    from celery.signals import task_postrun, task_prerun

    observability.init_celery(None, "json")
    log = logging.getLogger("craneflow.jobs")
    task_prerun.send(sender=None, task_id="task-123", task=None, args=(), kwargs={})
    log.info("firing")
    task_postrun.send(sender=None, task_id="task-123", task=None, args=(), kwargs={}, retval=None, state="SUCCESS")
    log.info("idle")
    lines = [x for x in _lines(json_log) if x["logger"] == "craneflow.jobs"]
    assert [(x["message"], x.get("task_id")) for x in lines] == [("firing", "task-123"), ("idle", None)]


@pytest.mark.parametrize(("config", "expected"), [
    ({"BACKGROUND": "celery"}, "json"), ({"BACKGROUND": "inprocess"}, "text"), ({"BACKGROUND": "off"}, "text"),
    ({"BACKGROUND": "inprocess", "LOG_FORMAT": "JSON"}, "json"), ({"BACKGROUND": "celery", "LOG_FORMAT": "text"}, "text"),
])
def test_json_logs_are_the_default_of_the_production_setup(config, expected):
    assert observability.log_format_of(config) == expected
