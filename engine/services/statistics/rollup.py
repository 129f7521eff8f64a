"""The review-time rollup (ReviewLeadRollup): one upsert when a regulator completes a review, and a
rebuild from the task table for data written in bulk (the demo-data generator, imports)."""
from datetime import timedelta

from sqlalchemy import Integer, and_, case, cast, delete, func, insert, literal_column, select, text

from engine.db import HumanTask, ReviewLeadRollup
from engine.db.base import insert_or_add

from ..settings import CHINA_TZ
from .period import days_between, is_postgres, month_start_of

TENTHS = 10  # lead-time buckets per day
_DAY = timedelta(days=1)
_SUMS = ("reviews", "on_time", "lead_days")


def _bucket(task: HumanTask) -> dict:
    local = task.completed_at.astimezone(CHINA_TZ).date()
    lead = task.completed_at - task.created_at
    return {"region_code": task.region_code, "month": local.replace(day=1),
            "lead_tenths": max(0, (lead * TENTHS) // _DAY),  # exact: integer microseconds, no float rounding
            "city_code": task.city_code, "province_code": task.province_code, "reviews": 1,
            "on_time": int(task.due_at is not None and task.completed_at <= task.due_at),
            "lead_days": lead / _DAY}


def count_review(session, task: HumanTask) -> None:
    """Add a regulator review completed in this transaction (no-op for any other task)."""
    if task.role != "regulator" or task.status != "completed" or not task.region_code or not task.completed_at:
        return
    insert_or_add(session, ReviewLeadRollup, _bucket(task), add=_SUMS)


def rebuild(session) -> int:
    """Recount the whole rollup from the completed regulator reviews; returns its row count.

    On PostgreSQL the table is locked against the upserts of concurrent completions for the
    transaction: one that completes meanwhile waits and adds itself to the fresh counts."""
    if is_postgres(session):
        session.execute(text("LOCK TABLE review_lead_rollup IN SHARE ROW EXCLUSIVE MODE"))
    ht = HumanTask
    lead = days_between(session, ht.created_at, ht.completed_at)
    tenths = cast(func.floor(lead * literal_column(str(TENTHS))), Integer)
    month = month_start_of(session, ht.completed_at)
    on_time = func.sum(case((and_(ht.due_at.is_not(None), ht.completed_at <= ht.due_at), 1), else_=0))
    grouped = (select(ht.region_code, month, tenths, func.max(ht.city_code), func.max(ht.province_code),
                      func.count(), on_time, func.sum(lead))
               .where(ht.status == "completed", ht.role == "regulator", ht.region_code.is_not(None),
                      ht.completed_at.is_not(None))
               .group_by(ht.region_code, month, tenths))
    session.execute(delete(ReviewLeadRollup))
    session.execute(insert(ReviewLeadRollup).from_select(
        ["region_code", "month", "lead_tenths", "city_code", "province_code", *_SUMS], grouped))
    return session.scalar(select(func.count()).select_from(ReviewLeadRollup))
