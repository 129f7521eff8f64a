"""Unsubmitted form values saved by an enterprise user (drafts of a task or of a start form)."""
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, JSONType, utcnow
from .cases import HumanTask, ProcessInstance
from .types import UTCDateTime


class TaskDraft(Base):
    """One draft per open task (shared by its enterprise), or per user and procedure for a start
    form (`task_id` NULL, `process_key` set)."""

    __tablename__ = "task_draft"
    __table_args__ = (UniqueConstraint("process_key", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("human_task.id"), unique=True)
    process_key: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    data: Mapped[dict] = mapped_column(JSONType)
    size: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


@event.listens_for(Session, "before_flush")
def _drop_drafts_of_submitted_forms(session, flush_context, instances):
    """A draft dies with its form: whichever path completes or cancels a task (page, API, timer),
    or starts a case from a start form, the flush that does it deletes the draft in the same
    transaction."""
    table = TaskDraft.__table__
    closed = [obj.id for obj in session.dirty
              if isinstance(obj, HumanTask) and obj.id is not None and obj.status != "open"]
    if closed:
        session.connection().execute(table.delete().where(table.c.task_id.in_(closed)))
    for obj in session.new:
        if isinstance(obj, ProcessInstance) and obj.started_by_id is not None:
            session.connection().execute(table.delete().where(
                table.c.task_id.is_(None), table.c.process_key == obj.process_key,
                table.c.user_id == obj.started_by_id))
