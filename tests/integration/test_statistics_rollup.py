"""The review-time rollup the dashboard reads: counted once in the completing transaction, for regulator
reviews only, equal to a recount from the tasks (the rebuild and the migration's back-fill), and exact
under concurrent completions on PostgreSQL."""
import importlib
import threading
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from engine.db import HumanTask, ReviewLeadRollup
from engine.db.uow import unit_of_work
from engine.services import cases
from engine.services.settings import CHINA_TZ
from engine.services.statistics import rollup
from tests.helpers import approved_crane, open_task_id, start_filing

BACKFILL = importlib.import_module("migrations.versions.0020_review_lead_rollup")._BACKFILL


def _rollup(engine) -> dict:
    with Session(engine) as s:
        return {(r.region_code, r.month, r.lead_tenths): (r.city_code, r.province_code, r.reviews, r.on_time,
                                                          round(r.lead_days, 6))
                for r in s.scalars(select(ReviewLeadRollup))}


def _reviews(engine) -> list[HumanTask]:
    with Session(engine) as s:
        return list(s.scalars(select(HumanTask).where(HumanTask.status == "completed",
                                                      HumanTask.role == "regulator")))


def _returned(api, serial):
    owner = api("owner_wuhan")
    case = start_filing(owner, serial=serial)
    r = api("reg_wuhan").post(f"/api/v1/tasks/{open_task_id(case)}/complete",
                              json={"data": {"decision": "return", "reason": "铭牌照片不清晰"}})
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()


def test_each_completed_review_is_counted_once_and_enterprise_tasks_not_at_all(api, world):
    approved_crane(api, "ROLL-1")
    approved_crane(api, "ROLL-2")
    returned = _returned(api, "ROLL-3")
    assert returned["open_tasks"][0]["role"].startswith("enterprise")  # the owner's correction is not a review
    reviews = _reviews(world.engine)
    assert len(reviews) == 3

    got = _rollup(world.engine)
    assert sum(v[2] for v in got.values()) == 3
    for task in reviews:
        month = task.completed_at.astimezone(CHINA_TZ).date().replace(day=1)
        tenths = (task.completed_at - task.created_at) * 10 // timedelta(days=1)
        city, province, count, on_time, _ = got[(task.region_code, month, tenths)]
        assert (city, province) == (task.city_code, task.province_code) == ("420100", "420000")
        assert on_time >= 1  # completed at once, well within 7 working days
    assert sum(v[4] for v in got.values()) == pytest.approx(
        sum((t.completed_at - t.created_at) / timedelta(days=1) for t in reviews), abs=1e-6)


def test_rebuild_and_the_migration_backfill_recount_the_same_figures(api, world):
    approved_crane(api, "ROLL-4")
    _returned(api, "ROLL-5")
    with Session(world.engine) as s:  # an older review, late: completed after its due time
        task = s.scalars(select(HumanTask).where(HumanTask.role == "regulator")).first()
        task.created_at -= timedelta(days=40, hours=3)
        task.due_at = task.created_at + timedelta(days=9)
        s.commit()
    live = _rollup(world.engine)  # the edit above bypassed the engine: the rollup still has the old bucket

    with unit_of_work(world.engine) as s:
        assert rollup.rebuild(s) == 2
    rebuilt = _rollup(world.engine)
    assert rebuilt != live and sum(v[2] for v in rebuilt.values()) == 2
    assert sum(v[3] for v in rebuilt.values()) == 1  # the late one is not on time
    late = max(rebuilt, key=lambda key: key[2])
    assert late[2] == 401  # 40 days 3 hours → 40.1 days, in tenths

    with unit_of_work(world.engine) as s:
        s.execute(delete(ReviewLeadRollup))
        s.execute(text(BACKFILL[s.get_bind().dialect.name]))
    assert _rollup(world.engine) == rebuilt


def test_rebuild_statistics_command(app, api, world):
    approved_crane(api, "ROLL-6")
    with unit_of_work(world.engine) as s:
        s.execute(delete(ReviewLeadRollup))
    result = app.test_cli_runner().invoke(args=["craneflow", "rebuild-statistics"])
    assert result.exit_code == 0, result.output
    assert "1 rows" in result.output
    assert sum(v[2] for v in _rollup(world.engine).values()) == 1


@pytest.mark.postgres
def test_concurrent_completions_in_one_bucket_are_all_counted(api, world, postgres_only):
    owner = api("owner_wuhan")
    task_ids = [open_task_id(start_filing(owner, serial=f"ROLL-C{i}")) for i in range(6)]
    regulator = world.user("reg_wuhan")
    barrier, errors = threading.Barrier(len(task_ids)), []

    def approve(task_id):
        try:
            barrier.wait(10)
            with unit_of_work(world.engine) as s:
                cases.complete_task(s, actor=s.merge(regulator), task_id=task_id, data={"decision": "approve"})
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=approve, args=(task_id,)) for task_id in task_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    got = _rollup(world.engine)
    assert sum(v[2] for v in got.values()) == len(task_ids) == len(_reviews(world.engine))
    assert len(got) <= 2  # all within the first tenth of a day (two buckets at most, across a month's edge)
