"""In-app notifications: one row per recipient and event, rendered in the reader's language."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, JSONType, utcnow
from .types import UTCDateTime

NOTIFICATION_KINDS = ("task_opened", "case_returned", "task_due_soon", "task_overdue",
                      "certificate_expiring", "certificate_expired", "assessment_expiring", "assessment_expired")


class Notification(Base):
    __tablename__ = "notification"
    # The bell counts one user's unread rows on every page.
    __table_args__ = (Index("ix_notification_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(32))
    # The idempotency key of the event for this user: a second notify of the same key adds nothing.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    # Template parameters; title and body are rendered from kind + params in the reader's language.
    params: Mapped[dict] = mapped_column(JSONType, default=dict)
    link: Mapped[str | None] = mapped_column(String(300))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set once the email went out, so a redelivered message never sends it twice.
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
