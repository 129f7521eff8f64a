"""The admin operations page and API: a job that really fails shows as an incident with its error and
is retried after the fix; a message its receiver refuses goes dead and is sent again; others get 403."""
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import AuditEvent, DueJob, OutboxMessage, ProcessInstance, utcnow
from engine.db.uow import unit_of_work
from engine.services import audit, due_jobs, outbox
from forms import t
from tests.conftest import csrf_from
from tests.helpers import start_filing
from tests.integration.test_pages_security import _browser

BROKEN = {"job": True, "receiver": True}
DELIVERED = []


@due_jobs.handles("test_failing")
def _push_to_province(session, job, instance):
    if BROKEN["job"]:
        raise RuntimeError("省级平台无法连接")
    audit.record(session, action="timer", instance=instance, job=job.id)


@outbox.topic("test_refused", max_attempts=5)
def _deliver(bind, message):
    if BROKEN["receiver"]:
        raise outbox.Permanent("接收方拒收：缺少字段 record_number")
    DELIVERED.append(message.key)


@pytest.fixture
def broken(monkeypatch):
    monkeypatch.setitem(BROKEN, "job", True)
    monkeypatch.setitem(BROKEN, "receiver", True)
    monkeypatch.setattr(outbox, "_dispatcher", None)  # the test dispatches; no broker hand-over
    DELIVERED.clear()
    return BROKEN


@pytest.fixture
def failed_job(world, api, broken):
    """A job of a Wuhan filing that failed when it fired: (job id, case id, business key)."""
    case = start_filing(api("owner_wuhan"), serial="OPS-1")
    with unit_of_work(world.engine) as s:
        job_id = due_jobs.schedule(s, kind="test_failing", key=f"test_failing:{case['id']}",
                                   due_at=utcnow() - timedelta(seconds=1), instance_id=case["id"])
    assert due_jobs.run_due(world.engine) == 0
    return job_id, case["id"], case["business_key"]


def _job(engine, job_id):
    with Session(engine) as s:
        return s.get(DueJob, job_id)


def _csrf(browser):
    return csrf_from(browser.get("/cases").get_data(as_text=True))


def test_a_failed_job_is_listed_with_its_error_and_fires_after_retry(app, world, failed_job):
    job_id, case_id, business_key = failed_job
    job = _job(world.engine, job_id)
    assert job.status == "failed" and job.attempts == 1
    assert job.last_error == "RuntimeError: 省级平台无法连接"
    with Session(world.engine) as s:
        assert s.get(ProcessInstance, case_id).error == "RuntimeError: 省级平台无法连接"

    admin = _browser(app, "admin")
    html = admin.get("/admin/operations").get_data(as_text=True)
    assert f'data-testid="job-{job_id}"' in html and "省级平台无法连接" in html
    assert f'href="/cases/{case_id}"' in html and business_key in html
    assert f'data-testid="incident-{case_id}"' in html
    assert 'data-testid="jobs-failed">1<' in html
    assert 'data-testid="nav-operations"' in html

    r = admin.post(f"/admin/operations/jobs/{job_id}/retry", data={"csrf_token": _csrf(admin)})
    assert r.status_code == 302 and urlsplit(r.headers["Location"]).path == "/admin/operations"
    assert 'data-testid="retried"' in admin.get(r.headers["Location"]).get_data(as_text=True)
    job = _job(world.engine, job_id)
    assert job.status == "pending" and job.last_error is None
    with Session(world.engine) as s:
        assert s.get(ProcessInstance, case_id).error is None
        retried = s.scalar(select(AuditEvent).where(AuditEvent.action == "incident_retry"))
        assert retried.actor_id == world.users["admin"] and retried.instance_id == case_id

    # Still broken: it fails again and is listed again.
    assert due_jobs.run_due(world.engine) == 0
    assert _job(world.engine, job_id).status == "failed"

    BROKEN["job"] = False  # the fix
    admin.post(f"/admin/operations/jobs/{job_id}/retry", data={"csrf_token": _csrf(admin)})
    assert due_jobs.run_due(world.engine) == 1
    job = _job(world.engine, job_id)
    assert job.status == "done" and job.attempts == 3 and job.fired_at is not None
    html = admin.get("/admin/operations").get_data(as_text=True)
    assert f'data-testid="job-{job_id}"' not in html and f'data-testid="incident-{case_id}"' not in html


def test_retrying_a_job_that_has_not_failed_is_refused(app, world, failed_job):
    job_id, _, _ = failed_job
    admin = _browser(app, "admin")
    token = _csrf(admin)
    assert admin.post(f"/admin/operations/jobs/{job_id}/retry", data={"csrf_token": token}).status_code == 302
    r = admin.post(f"/admin/operations/jobs/{job_id}/retry", data={"csrf_token": token})
    assert r.status_code == 409 and t("ops_job_not_failed", "zh_CN") in r.get_data(as_text=True)
    assert admin.post("/admin/operations/jobs/999999/retry", data={"csrf_token": token}).status_code == 404
    # Without the CSRF token nothing happens.
    assert admin.post(f"/admin/operations/jobs/{job_id}/retry").status_code == 400


def test_case_page_shows_the_incident_to_admins_and_regulators_only(app, world, failed_job):
    _, case_id, _ = failed_job
    admin_html = _browser(app, "admin").get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'data-testid="incident"' in admin_html and "省级平台无法连接" in admin_html
    regulator_html = _browser(app, "reg_wuhan").get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'data-testid="incident"' in regulator_html and "省级平台无法连接" not in regulator_html
    owner_html = _browser(app, "owner_wuhan").get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'data-testid="incident"' not in owner_html


def test_a_dead_message_is_listed_and_delivered_after_resend(app, world, broken):
    with unit_of_work(world.engine) as s:
        message_id = outbox.emit(s, "test_refused", "test_refused:crane:7", {"crane_id": 7})
    assert outbox.run_ready(world.engine) == {"dead": 1}
    admin = _browser(app, "admin")
    html = admin.get("/admin/operations").get_data(as_text=True)
    assert f'data-testid="message-{message_id}"' in html and "test_refused:crane:7" in html
    assert "缺少字段 record_number" in html and 'data-testid="messages-dead">1<' in html

    broken["receiver"] = False
    r = admin.post(f"/admin/operations/messages/{message_id}/resend", data={"csrf_token": _csrf(admin)})
    assert r.status_code == 302 and "resent=" in r.headers["Location"]
    assert outbox.run_ready(world.engine) == {"done": 1}
    assert DELIVERED == ["test_refused:crane:7"]
    with Session(world.engine) as s:
        assert s.get(OutboxMessage, message_id).status == "done"
        resent = s.scalar(select(AuditEvent).where(AuditEvent.action == "outbox_resend"))
        assert resent.actor_id == world.users["admin"] and resent.detail["message"] == message_id
    r = admin.post(f"/admin/operations/messages/{message_id}/resend", data={"csrf_token": _csrf(admin)})
    assert r.status_code == 409


@pytest.mark.parametrize("username", ["reg_wuhan", "reg_province", "owner_wuhan", "admin_wuhan"])
def test_others_are_refused(app, world, failed_job, username):
    job_id, _, _ = failed_job
    browser = _browser(app, username)
    assert browser.get("/admin/operations").status_code == 403
    r = browser.post(f"/admin/operations/jobs/{job_id}/retry", data={"csrf_token": _csrf(browser)})
    assert r.status_code == 403
    assert _job(world.engine, job_id).status == "failed"
    assert 'data-testid="nav-operations"' not in browser.get("/cases").get_data(as_text=True)


def test_api_lists_and_retries_for_the_admin(api, world, failed_job):
    job_id, case_id, _ = failed_job
    admin = api("admin")
    overview = admin.get("/api/v1/ops/overview").get_json()
    assert overview["jobs"]["failed"] == 1 and overview["messages"] == {"pending": 0, "running": 0, "dead": 0}
    jobs = admin.get("/api/v1/ops/jobs").get_json()
    assert jobs["total"] == 1 and jobs["items"][0]["id"] == job_id and jobs["items"][0]["case_id"] == case_id
    assert jobs["items"][0]["last_error"] == "RuntimeError: 省级平台无法连接"
    incidents = admin.get("/api/v1/ops/incidents").get_json()
    assert [i["id"] for i in incidents["items"]] == [case_id]

    r = admin.get("/api/v1/ops/jobs?status=broken")
    assert r.status_code == 422 and "status" in r.get_json()["errors"]
    r = admin.post(f"/api/v1/ops/jobs/{job_id}/retry")
    assert r.status_code == 200 and r.get_json()["status"] == "pending"
    r = admin.post(f"/api/v1/ops/jobs/{job_id}/retry?lang=en")
    assert r.status_code == 409 and r.get_json()["message"] == t("ops_job_not_failed", "en")
    assert admin.post("/api/v1/ops/messages/999999/resend").status_code == 404
    assert api("reg_province").get("/api/v1/ops/jobs?per_page=1000").status_code == 403


def test_lists_are_paginated(app, world, broken):
    with unit_of_work(world.engine) as s:
        s.add_all([DueJob(kind="test_failing", key=f"paged:{i}", due_at=utcnow() - timedelta(minutes=i),
                          status="failed", attempts=1, last_error=f"error {i}") for i in range(25)])
    admin = _browser(app, "admin")
    first = admin.get("/admin/operations").get_data(as_text=True)
    assert first.count('data-testid="job-') == 20 and "jobs_page=2" in first
    second = admin.get("/admin/operations?jobs_page=2").get_data(as_text=True)
    assert second.count('data-testid="job-') == 5 and "jobs_page=1" in second
    assert admin.get("/admin/operations?jobs_page=abc").status_code == 200
