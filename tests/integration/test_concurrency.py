"""Concurrent double submits and concurrent approvals: one winner, no lost or duplicated state."""
import io
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.db import AuditEvent, Crane, HumanTask
from engine.db.uow import unit_of_work
from engine.errors import Conflict
from engine.services import attachments, cases
from tests.helpers import PDF


def _filing(world, serial):
    owner = world.user("owner_wuhan")
    with unit_of_work(world.engine) as s:
        docs = {d: [attachments.store_upload(s, actor=owner, filename=f"{d}.pdf", stream=io.BytesIO(PDF)).id]
                for d in ("manufacturing_licence", "product_certificate", "supervision_certificate",
                          "ownership_proof")}
    data = {"crane_type": "construction_hoist", "model": "SC200/200", "manufacturer": "广西建机",
            "manufacturing_licence_no": "TS2450002", "factory_serial": serial, "hoist_drive": "SC",
            "manufacture_date": "2022-06-01", "product_certificate_no": "P-1",
            "supervision_certificate_no": "S-1", "documents": docs}
    with unit_of_work(world.engine) as s:
        instance = cases.start_case(s, actor=owner, process_key="crane_registration", data=data)
        (task,) = cases.case_tasks(s, instance, "open")
        return instance.id, task.id


def _race(jobs):
    """Run the callables at the same moment; return ("ok", value) / ("error", exception) each."""
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def run(i, job):
        barrier.wait()
        try:
            results[i] = ("ok", job())
        except Exception as exc:  # collected and asserted by the caller
            results[i] = ("error", exc)

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def _complete(world, username, task_id, data):
    actor = world.user(username)

    def job():
        with unit_of_work(world.engine) as s:
            return cases.complete_task(s, actor=actor, task_id=task_id, data=data).status
    return job


def test_concurrent_double_completion_one_wins_one_conflicts(world):
    case_id, task_id = _filing(world, "RACE-1")
    decision = {"decision": "approve"}
    results = _race([_complete(world, "reg_wuhan", task_id, decision),
                     _complete(world, "reg_province", task_id, decision)])
    kinds = sorted(kind for kind, _ in results)
    assert kinds == ["error", "ok"], results
    (error,) = [value for kind, value in results if kind == "error"]
    assert isinstance(error, Conflict)
    with Session(world.engine) as s:
        decisions = s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.instance_id == case_id, AuditEvent.action == "decision"))
        numbers = s.scalars(select(Crane.record_number)).all()
        assert decisions == 1
        assert len(numbers) == 1 and numbers[0] is not None
        assert s.scalar(select(func.count()).select_from(HumanTask).where(
            HumanTask.instance_id == case_id, HumanTask.status == "open")) == 0


def _approve_concurrently(world, count):
    tasks = [_filing(world, f"PAR-{i}")[1] for i in range(count)]
    results = _race([_complete(world, "reg_wuhan", task_id, {"decision": "approve"}) for task_id in tasks])
    assert all(kind == "ok" for kind, _ in results), results
    with Session(world.engine) as s:
        return sorted(s.scalars(select(Crane.record_number)).all())


def test_record_numbers_unique_and_gapless_under_concurrent_approvals(world):
    numbers = _approve_concurrently(world, 6)
    serials = [int(n[-5:]) for n in numbers]
    assert serials == list(range(1, 7))
    assert all(n.startswith("鄂A-S") for n in numbers)


@pytest.mark.postgres
def test_record_numbers_gapless_with_row_locks_on_postgres(world, postgres_only):
    numbers = _approve_concurrently(world, 12)
    assert [int(n[-5:]) for n in numbers] == list(range(1, 13))
    assert len(set(numbers)) == 12
