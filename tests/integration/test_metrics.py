"""GET /metrics: Prometheus text format, request latency per route template, backlogs and open tasks
computed from the database at scrape time, timer lateness; loopback or bearer token only."""
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.db import DueJob, utcnow
from engine.db.uow import unit_of_work
from engine.services import due_jobs
from tests.helpers import start_filing

FIRED = []


@due_jobs.handles("test_metrics_noop")
def _noop(session, job, instance):
    FIRED.append(job.key)


def _scrape(client, **kw) -> dict:
    r = client.get("/metrics", **kw)
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.content_type.startswith("text/plain")
    return {family.name: family for family in text_string_to_metric_families(r.get_data(as_text=True))}


def _value(families, family, sample_name=None, **labels):
    found = [s.value for s in families[family].samples
             if s.name == (sample_name or family) and all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(found) <= 1, found
    return found[0] if found else None


def test_request_latency_is_recorded_per_route_template_and_status_class(api, client):
    owner = api("owner_wuhan")
    case = start_filing(owner, serial="METRICS-1")
    before = _value(_scrape(client), "craneflow_http_request_duration_seconds",
                    "craneflow_http_request_duration_seconds_count",
                    method="GET", route="/api/v1/cases/<int:case_id>", status="2xx") or 0
    for _ in range(2):
        assert owner.get(f"/api/v1/cases/{case['id']}").status_code == 200
    assert owner.get("/api/v1/cases/999999").status_code == 404
    families = _scrape(client)
    histogram = "craneflow_http_request_duration_seconds"
    assert families[histogram].type == "histogram"
    route = "/api/v1/cases/<int:case_id>"
    assert _value(families, histogram, histogram + "_count", method="GET", route=route, status="2xx") == before + 2
    assert _value(families, histogram, histogram + "_count", method="GET", route=route, status="4xx") >= 1
    assert _value(families, histogram, histogram + "_bucket", method="GET", route=route, status="2xx",
                  le="+Inf") == before + 2
    routes = {s.labels["route"] for s in families[histogram].samples}
    assert f"/api/v1/cases/{case['id']}" not in routes and "/api/v1/cases/999999" not in routes  # never raw paths


def test_open_tasks_by_city_and_due_jobs_reflect_a_started_case(api, client, world):
    families = _scrape(client)
    wuhan_before = _value(families, "craneflow_open_tasks", city="420100") or 0
    pending_before = _value(families, "craneflow_due_jobs", status="pending")
    start_filing(api("owner_wuhan"), serial="METRICS-2")  # waits for review by 武汉 (420100), with its timer
    families = _scrape(client)
    assert _value(families, "craneflow_open_tasks", city="420100") == wuhan_before + 1
    assert _value(families, "craneflow_open_tasks", city="420500") is None  # nothing open in 宜昌
    with Session(world.engine) as session:  # the review timer and whatever else the filing scheduled
        pending = session.scalar(select(func.count()).select_from(DueJob).where(DueJob.status == "pending"))
    assert _value(families, "craneflow_due_jobs", status="pending") == pending > pending_before
    assert _value(families, "craneflow_due_jobs", status="failed") == 0
    assert {s.labels["status"] for s in families["craneflow_outbox_messages"].samples} == {"pending", "running", "dead"}


def test_timer_lateness_of_recently_fired_jobs(world, client):
    families = _scrape(client)
    assert _value(families, "craneflow_timer_jobs_fired_recent") == 0
    assert families["craneflow_timer_lateness_seconds"].samples == []
    with unit_of_work(world.engine) as s:
        for i, late in enumerate((2, 4)):
            due_jobs.schedule(s, kind="test_metrics_noop", key=f"metrics:{i}", due_at=utcnow() - timedelta(seconds=late))
    assert due_jobs.run_due(world.engine) == 2
    families = _scrape(client)
    assert _value(families, "craneflow_timer_jobs_fired_recent") == 2
    assert 2.0 <= _value(families, "craneflow_timer_lateness_seconds", quantile="0.5") < 4.0
    assert 4.0 <= _value(families, "craneflow_timer_lateness_seconds", quantile="1") < 10.0


def test_metrics_are_refused_from_elsewhere_without_the_token(app, client, world, monkeypatch):
    remote = {"REMOTE_ADDR": "10.1.2.3"}
    assert client.get("/metrics", environ_base=remote).status_code == 403
    # A request relayed by a proxy on this host is not local either.
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 403
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200

    monkeypatch.setitem(app.config, "METRICS_TOKEN", "scrape-token-1")
    assert client.get("/metrics", environ_base=remote, headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.get("/metrics", environ_base=remote).status_code == 403
    families = _scrape(client, environ_base=remote, headers={"Authorization": "Bearer scrape-token-1"})
    assert "craneflow_due_jobs" in families


@pytest.mark.redis
def test_queue_depth_is_read_from_redis(app, client, world, monkeypatch, redis_url):
    import redis

    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)
    r = redis.Redis.from_url(redis_url)
    marker = b"craneflow-metrics-test"
    before = r.llen("craneflow.sweep")
    r.rpush("craneflow.sweep", marker)
    try:
        families = _scrape(client)
    finally:
        r.lrem("craneflow.sweep", 0, marker)
    assert _value(families, "craneflow_queue_depth", queue="craneflow.sweep") == before + 1
    assert _value(families, "craneflow_queue_depth", queue="craneflow") is not None
