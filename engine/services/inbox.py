"""Inbox listing: reads HumanTask rows only, never a workflow state."""
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.db import HumanTask, User

from .access import inbox_filter

MAX_PER_PAGE = 100
# Counting every open task of a province is a scan; past this many an exact total helps nobody.
COUNT_CAP = 1000


@dataclass
class InboxPage:
    tasks: list[HumanTask]
    total: int  # exact up to COUNT_CAP; see total_capped
    page: int
    per_page: int
    total_capped: bool = False


def list_inbox(session: Session, *, user: User, process_key: str | None = None, status: str = "open",
               page: int = 1, per_page: int = 20) -> InboxPage:
    """Open tasks the user may act on, or (status="completed") tasks the user completed."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(1, page)
    if status == "completed":
        condition = (HumanTask.status == "completed") & (HumanTask.completed_by_id == user.id)
    else:
        condition = (HumanTask.status == "open") & inbox_filter(user)
    if process_key:
        condition = condition & (HumanTask.process_key == process_key)
    window = max(COUNT_CAP, page * per_page) + 1
    counted = select(HumanTask.id).where(condition).limit(window).subquery()
    total = session.scalar(select(func.count()).select_from(counted))
    rows = session.scalars(
        select(HumanTask).where(condition)
        .order_by(HumanTask.due_at.asc().nulls_last(), HumanTask.id)
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    capped = total >= window
    return InboxPage(tasks=list(rows), total=min(total, window - 1), page=page, per_page=per_page,
                     total_capped=capped)
