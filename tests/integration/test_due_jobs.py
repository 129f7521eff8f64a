"""Due jobs: one row per waiting timer, kept in step with the case; fired once; a failure is an
incident that an administrator retries; a lost hand-over is claimed again."""
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from engine.db import AuditEvent, DueJob, ProcessInstance, WorkerHeartbeat, utcnow
from engine.db.uow import unit_of_work
from engine.services import crane_filing, due_jobs, sweep
from tests.helpers import open_task_id, start_filing

CALLS: list[int] = []
BROKEN = {"on": True}


@due_jobs.handles("test_probe")
def _probe(session, job, instance):
    CALLS.append(job.id)


@due_jobs.handles("test_fragile")
def _fragile(session, job, instance):
    session.execute(text("UPDATE process_instance SET title = 'touched' WHERE id = :id"), {"id": instance.id})
    if BROKEN["on"]:
        raise RuntimeError("the reference service is down")


@pytest.fixture(autouse=True)
def _reset():
    CALLS.clear()
    BROKEN["on"] = True


def _jobs(engine, **where):
    with Session(engine) as s:
        return list(s.scalars(select(DueJob).filter_by(**where).order_by(DueJob.id)))


def _schedule(engine, **values):
    with unit_of_work(engine) as s:
        return due_jobs.schedule(s, **values)


def test_a_waiting_timer_has_one_job_that_goes_when_the_task_is_done(world, api):
    case = start_filing(api("owner_wuhan"))
    (job,) = _jobs(world.engine, instance_id=case["id"])
    with Session(world.engine) as s:
        instance = s.get(ProcessInstance, case["id"])
        assert (job.kind, job.status, job.due_at) == ("timer", "pending", instance.next_due_at)
    r = api("reg_wuhan").post(f"/api/v1/tasks/{open_task_id(case)}/complete", json={"data": {"decision": "approve"}})
    assert r.status_code == 200
    assert _jobs(world.engine, instance_id=case["id"]) == []  # the review's SLA timer is gone with it


def test_scheduling_the_same_key_twice_adds_one_job(world):
    due = utcnow() - timedelta(seconds=1)
    first = _schedule(world.engine, kind="test_probe", key="probe:twice", due_at=due)
    assert first is not None
    assert _schedule(world.engine, kind="test_probe", key="probe:twice", due_at=due) is None
    assert due_jobs.run_due(world.engine) == 1
    assert due_jobs.run_due(world.engine) == 0
    assert CALLS == [first]
    (job,) = _jobs(world.engine, key="probe:twice")
    assert job.status == "done" and job.attempts == 1 and job.lateness_ms >= 1000


def test_a_job_fires_once_however_often_it_is_handed_over(world):
    job_id = _schedule(world.engine, kind="test_probe", key="probe:once", due_at=utcnow())
    assert due_jobs.claim_due(world.engine) == [job_id]
    outcomes = [due_jobs.fire(world.engine, job_id) for _ in range(3)]  # a redelivered Celery task
    assert outcomes == ["fired", "skipped", "skipped"]
    assert CALLS == [job_id]


def test_a_job_not_yet_due_waits(world):
    job_id = _schedule(world.engine, kind="test_probe", key="probe:later", due_at=utcnow() + timedelta(hours=1))
    assert due_jobs.claim_due(world.engine) == []
    assert due_jobs.fire(world.engine, job_id) == "not_due"
    assert CALLS == [] and _jobs(world.engine, key="probe:later")[0].status == "pending"


def test_a_queued_job_whose_worker_vanished_is_claimed_again(world):
    job_id = _schedule(world.engine, kind="test_probe", key="probe:lost", due_at=utcnow())
    assert due_jobs.claim_due(world.engine) == [job_id]  # queued; the message never reaches a worker
    assert due_jobs.claim_due(world.engine) == []
    later = utcnow() + due_jobs.REQUEUE_AFTER + timedelta(seconds=1)
    assert due_jobs.claim_due(world.engine, now=later) == [job_id]
    assert due_jobs.fire(world.engine, job_id) == "fired" and CALLS == [job_id]


def test_a_failing_job_is_an_incident_until_retried_after_the_fix(world, api):
    case = start_filing(api("owner_wuhan"))
    job_id = _schedule(world.engine, kind="test_fragile", key="fragile:1", due_at=utcnow(), instance_id=case["id"])
    assert due_jobs.run_due(world.engine) == 0
    (job,) = _jobs(world.engine, key="fragile:1")
    assert job.status == "failed" and "reference service is down" in job.last_error
    with Session(world.engine) as s:
        instance = s.get(ProcessInstance, case["id"])
        assert "reference service is down" in instance.error
        assert instance.title != "touched"  # the failed handler left no effect
        assert s.scalar(select(AuditEvent.action).where(AuditEvent.instance_id == case["id"],
                                                        AuditEvent.action == "incident")) == "incident"
    assert due_jobs.run_due(world.engine) == 0  # a failed job is not retried by itself

    BROKEN["on"] = False
    with unit_of_work(world.engine) as s:
        due_jobs.retry(s, job_id, actor=world.user("admin"))
    assert due_jobs.run_due(world.engine) == 1
    with Session(world.engine) as s:
        instance = s.get(ProcessInstance, case["id"])
        assert instance.error is None and instance.title == "touched"
    assert _jobs(world.engine, key="fragile:1")[0].status == "done"


def test_retry_refuses_a_job_that_did_not_fail(world):
    from engine.errors import Conflict

    job_id = _schedule(world.engine, kind="test_probe", key="probe:fine", due_at=utcnow())
    with pytest.raises(Conflict), unit_of_work(world.engine) as s:
        due_jobs.retry(s, job_id, actor=world.user("admin"))


def test_the_sweep_fires_due_work_and_beats(world):
    _schedule(world.engine, kind="test_probe", key="probe:sweep", due_at=utcnow())
    result = sweep.sweep(world.engine, name="test-sweeper")
    assert result.jobs == 1 and len(CALLS) == 1
    with Session(world.engine) as s:
        beat = s.get(WorkerHeartbeat, "test-sweeper").beat_at
    sweep.sweep(world.engine, name="test-sweeper")
    with Session(world.engine) as s:
        assert s.get(WorkerHeartbeat, "test-sweeper").beat_at > beat


@pytest.mark.postgres
def test_a_timer_of_a_case_in_a_transition_waits_for_it(world, api, postgres_only, monkeypatch):
    monkeypatch.setattr(crane_filing, "review_deadline", lambda now: now + timedelta(seconds=1))
    case = start_filing(api("owner_wuhan"))
    (job,) = _jobs(world.engine, instance_id=case["id"])
    time.sleep(max(0.0, (job.due_at - utcnow()).total_seconds()) + 0.05)
    assert due_jobs.claim_due(world.engine) == [job.id]
    with unit_of_work(world.engine) as s:  # a transition holds the case
        s.execute(select(ProcessInstance.id).where(ProcessInstance.id == case["id"]).with_for_update())
        with pytest.raises(due_jobs.Busy):
            due_jobs.fire(world.engine, job.id, nowait=True)
    assert due_jobs.fire(world.engine, job.id, nowait=True) == "fired"


def test_finished_work_is_purged_after_the_retention_period(world):
    from engine.services import outbox

    _schedule(world.engine, kind="test_probe", key="probe:old", due_at=utcnow())
    due_jobs.run_due(world.engine)
    with unit_of_work(world.engine) as s:
        outbox.emit(s, "unknown.topic", "old-message", {})
    outbox.run_ready(world.engine)  # no handler: dead, and dead messages are kept
    assert sweep.purge_finished(world.engine) == 0
    later = utcnow() + sweep.RETENTION + timedelta(days=1)
    assert sweep.purge_finished(world.engine, now=later) == 1
    assert _jobs(world.engine, key="probe:old") == []


def test_stale_queued_jobs_are_requeued_only_when_the_queue_is_empty(world):
    job_id = _schedule(world.engine, kind="test_probe", key="probe:backlog", due_at=utcnow())
    assert due_jobs.claim_due(world.engine) == [job_id]
    later = utcnow() + due_jobs.REQUEUE_AFTER + timedelta(seconds=1)
    assert due_jobs.claim_due(world.engine, now=later, requeue_stale=False) == []  # still in the queue
    assert due_jobs.claim_due(world.engine, now=later, requeue_stale=True) == [job_id]


def test_a_sweep_with_queues_hands_out_jobs_due_before_its_next_tick_in_timed_batches(world):
    now = utcnow()
    soon = [_schedule(world.engine, kind="test_probe", key=f"probe:soon:{i}", due_at=now + timedelta(milliseconds=800))
            for i in range(3)]
    overdue = _schedule(world.engine, kind="test_probe", key="probe:overdue", due_at=now - timedelta(seconds=1))
    later = _schedule(world.engine, kind="test_probe", key="probe:later", due_at=now + timedelta(seconds=5))
    handed = []
    result = sweep.sweep(world.engine, name="test-sweeper", ahead=timedelta(seconds=1.5),
                         enqueue_jobs=lambda ids, eta: handed.append((ids, eta)))
    assert result.jobs == 4
    assert handed[0] == ([overdue], None)  # due already: at once
    (ids, eta), = handed[1:]
    assert ids == soon and abs((eta - (now + timedelta(milliseconds=800))).total_seconds()) < 0.01
    assert [j.status for j in _jobs(world.engine, key="probe:later")] == ["pending"] and later not in ids
    assert CALLS == []  # handed over, not fired here


def test_batches_split_by_size_and_by_spread_of_due_times():
    t0 = utcnow()
    claimed = [(i, t0 + timedelta(milliseconds=10 * i)) for i in range(25)]  # 10 ms apart
    plan = due_jobs.batches(claimed, now=t0 - timedelta(seconds=1), size=10, spread=timedelta(milliseconds=100))
    assert [ids for ids, _ in plan] == [list(range(10)), list(range(10, 20)), list(range(20, 25))]
    assert [eta for _, eta in plan] == [claimed[9][1], claimed[19][1], claimed[24][1]]  # the last due time
    spread = [(1, t0), (2, t0 + timedelta(milliseconds=50)), (3, t0 + timedelta(milliseconds=300))]
    assert [ids for ids, _ in due_jobs.batches(spread, now=t0 + timedelta(seconds=1))] == [[1, 2], [3]]
    assert all(eta is None for _, eta in due_jobs.batches(spread, now=t0 + timedelta(seconds=1)))
