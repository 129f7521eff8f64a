"""Construction projects (the site a crane is installed on), the parties of a case and the records
each step of a multi-party case leaves behind."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, JSONType, utcnow
from .types import UTCDateTime

class Project(Base):
    """A construction project (工程项目), keyed on its project code; the 项目台账 hangs off it."""

    __tablename__ = "project"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    permit_number: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(300))
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    user_enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    supervisor_enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    status: Mapped[str] = mapped_column(String(24), default="under_construction")  # or "completed"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    user_enterprise = relationship("Enterprise", foreign_keys=[user_enterprise_id])
    supervisor_enterprise = relationship("Enterprise", foreign_keys=[supervisor_enterprise_id])


class CaseParty(Base):
    """An enterprise that takes part in a case without having started it (GC, supervisor, …);
    the parties a lane may name are workflows.catalog.PARTIES."""

    __tablename__ = "case_party"

    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), primary_key=True)
    party: Mapped[str] = mapped_column(String(16), primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)


class CaseRecord(Base):
    """What one step of a case recorded (a party's review, an inspection report, a sign-off)."""

    __tablename__ = "case_record"
    __table_args__ = (Index("ix_case_record_instance_step", "instance_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    step: Mapped[str] = mapped_column(String(64))
    party: Mapped[str | None] = mapped_column(String(16))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"))
    data: Mapped[dict] = mapped_column(JSONType)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
