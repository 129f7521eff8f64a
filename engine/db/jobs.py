"""Background work kept in the database, so that nothing is lost when a process dies.

- `DueJob`: something that must happen at a time: a case's waiting BPMN timer, a deadline
  reminder, a certificate or assessment expiry check. The sweep claims due rows with
  FOR UPDATE SKIP LOCKED and fires each exactly once (the row's status changes in the same
  transaction as the effect).
- `OutboxMessage`: work a transition triggers (notifications, data pushes), written in the
  transition's own transaction and dispatched after commit; an idempotency key makes a second
  emit of the same work a no-op.
- `WorkerHeartbeat`: when each background process last swept (readiness and the ops page).
"""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, JSONType, utcnow
from .types import UTCDateTime

# pending -> queued (claimed by a sweep, handed to a worker) -> done | failed | cancelled
JOB_STATES = ("pending", "queued", "done", "failed", "cancelled")
# pending -> running (leased to a dispatcher) -> done | pending (retry later) | dead
MESSAGE_STATES = ("pending", "running", "done", "dead")


class DueJob(Base):
    __tablename__ = "due_job"
    __table_args__ = (Index("ix_due_job_status_due_at", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    # What makes the job unique: a second schedule() of the same key changes nothing.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(12), default="pending")
    payload: Mapped[dict] = mapped_column(JSONType, default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # fired_at - due_at, kept for the lateness figures.
    lateness_ms: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OutboxMessage(Base):
    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_status_available_at", "status", "available_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(200), unique=True)
    payload: Mapped[dict] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Not before this time: the next try after a failure (exponential backoff), or the end of a
    # running dispatcher's lease (after which a crashed dispatch is tried again).
    available_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WorkerHeartbeat(Base):
    __tablename__ = "worker_heartbeat"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
