"""The review SLA timer: stored due time, swept in-process or by a Celery worker over Redis, never twice."""
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import AuditEvent, DueJob, HumanTask, ProcessInstance, WorkerHeartbeat, utcnow
from engine.services import crane_filing
from engine.services.timers import fire_due_timers
from tests.helpers import start_filing


@pytest.fixture
def short_deadline(monkeypatch):
    """Reviews due in one second instead of seven working days."""
    monkeypatch.setattr(crane_filing, "review_deadline", lambda now: now + timedelta(seconds=1))


def _overdue_events(engine, case_id):
    with Session(engine) as s:
        return s.scalars(select(AuditEvent.action).where(
            AuditEvent.instance_id == case_id, AuditEvent.action.in_(("timer", "overdue")))).all()


def _wait_until_due(engine, case_id):
    with Session(engine) as s:
        due = s.get(ProcessInstance, case_id).next_due_at
    assert due is not None
    time.sleep(max(0.0, (due - utcnow()).total_seconds()) + 0.05)


def test_default_deadline_is_seven_working_days_away(world, api):
    case = start_filing(api("owner_wuhan"))
    with Session(world.engine) as s:
        instance = s.get(ProcessInstance, case["id"])
        task = s.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                HumanTask.task_name == "review_filing"))
        assert instance.next_due_at == task.due_at  # the timer and the inbox deadline agree
        assert instance.next_due_at - utcnow() >= timedelta(days=7)


def test_overdue_review_is_flagged_once_and_stays_open(world, api, short_deadline):
    case = start_filing(api("owner_wuhan"))
    assert fire_due_timers(world.engine) == 0  # not yet due
    _wait_until_due(world.engine, case["id"])
    assert fire_due_timers(world.engine) == 1
    assert fire_due_timers(world.engine) == 0
    assert sorted(_overdue_events(world.engine, case["id"])) == ["overdue", "timer"]
    with Session(world.engine) as s:
        instance = s.get(ProcessInstance, case["id"])
        assert instance.overdue_since is not None and instance.next_due_at is None
        open_tasks = s.scalars(select(HumanTask.task_name).where(
            HumanTask.instance_id == instance.id, HumanTask.status == "open")).all()
    assert open_tasks == ["review_filing"]  # non-interrupting: the review goes on


@pytest.mark.postgres
def test_concurrent_sweepers_never_fire_the_same_timer(world, api, short_deadline, postgres_only):
    owner = api("owner_wuhan")
    cases = [start_filing(owner, serial=f"SWEEP-{i}")["id"] for i in range(8)]
    _wait_until_due(world.engine, cases[-1])
    counts = []
    threads = [threading.Thread(target=lambda: counts.append(fire_due_timers(world.engine))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(counts) == 8
    for case_id in cases:
        assert sorted(_overdue_events(world.engine, case_id)) == ["overdue", "timer"]


@pytest.mark.redis
def test_celery_beat_sweep_over_redis_fires_due_timers_once(world, api, short_deadline, redis_url, app, monkeypatch):
    from celery.contrib.testing.worker import start_worker

    from engine.tasks import sweep_task
    from web.celery_app import make_celery

    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)
    celery = make_celery(app)
    celery.control.purge()
    case = start_filing(api("owner_wuhan"))
    _wait_until_due(world.engine, case["id"])
    with start_worker(celery, pool="solo", perform_ping_check=False, shutdown_timeout=10,
                      queues=["craneflow", "craneflow.sweep"]):
        for _ in range(3):  # three ticks of beat: the timer fires once
            sweep_task.delay()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(_overdue_events(world.engine, case["id"])) < 2:
            time.sleep(0.2)
        time.sleep(1)
    assert sorted(_overdue_events(world.engine, case["id"])) == ["overdue", "timer"]
    with Session(world.engine) as s:
        job = s.scalar(select(DueJob).where(DueJob.instance_id == case["id"], DueJob.status == "done"))
        assert job.fired_at >= job.due_at and job.lateness_ms is not None
        assert s.scalar(select(WorkerHeartbeat.beat_at).where(WorkerHeartbeat.name.like("worker@%"))) is not None
