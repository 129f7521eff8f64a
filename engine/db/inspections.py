"""Safety supervision (domain.md §4): spot checks on a project, their hazards, and the 不良行为
candidates that overdue rectifications leave against an enterprise."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, JSONType, utcnow
from .types import UTCDateTime


class Inspection(Base):
    """One spot check (监督抽查) and the notice it issued; one per inspection case."""

    __tablename__ = "inspection"
    # Regulator statistics: checks and closings per month, open notices past their deadline.
    __table_args__ = (
        Index("ix_inspection_check_date", "check_date"),
        Index("ix_inspection_closed_at", "closed_at"),
        Index("ix_inspection_open_deadline", "deadline_on", postgresql_where=text("status = 'open'"),
              sqlite_where=text("status = 'open'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    check_date: Mapped[date] = mapped_column(Date)
    check_type: Mapped[str] = mapped_column(String(16))  # routine / special / random / follow_up
    inspectors: Mapped[list] = mapped_column(JSONType)
    jgj59_score: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))
    # none / rectification (整改通知书) / stop_work (停工整改通知书) / stop_use (停止使用)
    instrument: Mapped[str] = mapped_column(String(16))
    notice_number: Mapped[str | None] = mapped_column(String(40), unique=True)
    stop_use_crane_id: Mapped[int | None] = mapped_column(ForeignKey("crane.id"), index=True)
    deadline_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open / closed
    overdue_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalated_deadline_on: Mapped[date | None] = mapped_column(Date)  # the last deadline escalated
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    project = relationship("Project")
    hazards = relationship("Hazard", back_populates="inspection", order_by="Hazard.seq")


class Hazard(Base):
    """A hazard (隐患) found in a spot check; closed (销项) when a re-inspection passes it."""

    __tablename__ = "hazard"
    __table_args__ = (Index("ix_hazard_crane_open", "crane_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id"), index=True)
    seq: Mapped[int]
    description: Mapped[str] = mapped_column(Text)
    location: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(32))
    grade: Mapped[str] = mapped_column(String(8))  # general (一般) / major (重大)
    major_item: Mapped[str | None] = mapped_column(String(24))  # a crane major-hazard checklist code
    crane_id: Mapped[int | None] = mapped_column(ForeignKey("crane.id"))
    clause: Mapped[str | None] = mapped_column(String(200))
    photos: Mapped[list] = mapped_column(JSONType, default=list)
    deadline_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8), default="open")  # open / closed
    measure: Mapped[str | None] = mapped_column(Text)
    completed_on: Mapped[date | None] = mapped_column(Date)
    evidence: Mapped[list] = mapped_column(JSONType, default=list)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    inspection = relationship("Inspection", back_populates="hazards")
    crane = relationship("Crane")


class ConductRecord(Base):
    """A 不良行为记录 against an enterprise: a candidate until the superior authority confirms it."""

    __tablename__ = "conduct_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # rectification_overdue
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="candidate")  # candidate / confirmed / dismissed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    enterprise = relationship("Enterprise")
