"""Periodic reports (报表报送): what the province asks for, and each region's submission of it."""
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, JSONType, utcnow
from .types import UTCDateTime

DEFINITION_STATUSES = ("draft", "published", "closed")
SUBMISSION_STATUSES = ("not_started", "submitted", "returned", "accepted", "missed")  # missed: closed unsubmitted


class ReportDefinition(Base):
    """A periodic report the province defines: its period, its fields and its deadline.

    `fields` lists {key, label_zh, label_en, type (integer/decimal/text), required, prefill}; a
    prefill names a figure the system computes for the region and period (report_prefill)."""

    __tablename__ = "report_definition"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    period_label: Mapped[str] = mapped_column(String(40))  # 2026年10月 / 2026年第四季度
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)  # inclusive
    fields: Mapped[list] = mapped_column(JSONType)
    deadline_on: Mapped[date] = mapped_column(Date)
    include_counties: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    created_by = relationship("User")


class ReportSubmission(Base):
    """One region's report for one definition, run as one report_submission case."""

    __tablename__ = "report_submission"
    __table_args__ = (
        UniqueConstraint("definition_id", "region_code"),
        # A regulator's own submissions, and every region's for the province's overview.
        Index("ix_report_submission_region", "region_code", "definition_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("report_definition.id"))
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="not_started")
    values: Mapped[dict] = mapped_column(JSONType, default=dict)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    return_reason: Mapped[str | None] = mapped_column(Text)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set once, by the deadline timer, when the deadline passed with the report not submitted.
    overdue_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    definition = relationship("ReportDefinition", lazy="joined")
