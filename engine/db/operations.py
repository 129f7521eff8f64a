"""A crane's operation records (Order 166 Art 9, domain.md §2.5, §3 and §5): periodic self-checks,
maintenance, repairs, faults and safety assessments of an ageing crane. Append-only: the safety technical archive holds them as written."""
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, JSONType, utcnow
from .types import UTCDateTime

OPERATION_KINDS = ("self_check", "maintenance", "repair", "fault", "assessment")


class OperationRecord(Base):
    __tablename__ = "operation_record"
    # Regulator statistics: the safety assessments the ages section joins.
    __table_args__ = (Index("ix_operation_record_kind_crane", "kind", "crane_id",
                            postgresql_include=["result", "valid_until"]),)

    id: Mapped[int] = mapped_column(primary_key=True)
    crane_id: Mapped[int] = mapped_column(ForeignKey("crane.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    performed_on: Mapped[date] = mapped_column(Date)
    # The site the crane stood on when the record was made (none while idle in the yard).
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id"))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"))  # who recorded it
    performer_enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"))  # who did the work
    person_in_charge: Mapped[str] = mapped_column(String(64))
    # self-check: normal / defects; assessment: qualified / unqualified
    result: Mapped[str | None] = mapped_column(String(16))
    # A JGJ/T 189 safety assessment's report number and the last day its conclusion holds.
    report_number: Mapped[str | None] = mapped_column(String(64))
    valid_until: Mapped[date | None] = mapped_column(Date)
    items: Mapped[list] = mapped_column(JSONType, default=list)
    summary: Mapped[str] = mapped_column(Text)
    # A repair that puts right a recorded fault.
    resolves_id: Mapped[int | None] = mapped_column(ForeignKey("operation_record.id"), unique=True)
    attachments: Mapped[list] = mapped_column(JSONType, default=list)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    performer = relationship("Enterprise", foreign_keys=[performer_enterprise_id], lazy="joined")
