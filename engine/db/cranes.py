"""Crane equipment records (domain.md §3) and the record-number sequences."""
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow
from .types import UTCDateTime

# The lifecycle (engine.domain.lifecycle): draft → pending_review ⇄ returned → filed | rejected,
# then install_notified → … → in_use → dismantle_notified → filed (idle) … → cancelled.
CRANE_STATUSES = ("draft", "pending_review", "returned", "filed", "rejected", "install_notified",
                  "self_inspected", "inspected", "accepted", "registration_pending", "in_use",
                  "dismantle_notified", "cancelled")


class Crane(Base):
    __tablename__ = "crane"
    __table_args__ = (
        # Regulator statistics: filed cranes by region × type × state, and their ages.
        Index("ix_crane_statistics", "filing_region_code", "crane_type", "status",
              postgresql_include=["id", "filed_at", "manufacture_date", "rated_moment_knm", "hoist_drive"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_number: Mapped[str | None] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(24), default="draft", index=True)
    crane_type: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(64))
    manufacturer: Mapped[str] = mapped_column(String(200))
    manufacturing_licence_no: Mapped[str] = mapped_column(String(64))
    manufacturing_licence_valid_until: Mapped[date | None] = mapped_column(Date)
    factory_serial: Mapped[str] = mapped_column(String(64))
    manufacture_date: Mapped[date] = mapped_column(Date)
    design_life_years: Mapped[int | None] = mapped_column(Integer)
    rated_moment_knm: Mapped[float | None] = mapped_column(Numeric(10, 2))
    rated_load_kg: Mapped[int | None] = mapped_column(Integer)
    max_height_m: Mapped[float | None] = mapped_column(Numeric(8, 2))
    hoist_drive: Mapped[str | None] = mapped_column(String(4))
    product_certificate_no: Mapped[str] = mapped_column(String(64))
    supervision_certificate_no: Mapped[str] = mapped_column(String(64))
    purchase_date: Mapped[date | None] = mapped_column(Date)
    owner_enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    # "manufacturer|model|serial" (normalised) while the filing is live; NULL once rejected or
    # cancelled. A unique index on it refuses duplicate filings even under concurrency.
    identity_key: Mapped[str | None] = mapped_column(String(400), unique=True)
    # Transfer of ownership: the old record names the transferee; the transferee's new record
    # points back at it, and with it the safety technical archive passes to the new owner.
    transferee_uscc: Mapped[str | None] = mapped_column(String(18))
    predecessor_id: Mapped[int | None] = mapped_column(ForeignKey("crane.id"), index=True)
    filing_region_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"))
    filed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The site the crane stands on, from installation notice to dismantling.
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id"), index=True)
    accepted_on: Mapped[date | None] = mapped_column(Date)
    use_registration_no: Mapped[str | None] = mapped_column(String(40), unique=True)
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    owner = relationship("Enterprise", lazy="joined", foreign_keys=[owner_enterprise_id])
    project = relationship("Project")
    documents: Mapped[list["CraneDocument"]] = relationship(
        back_populates="crane", cascade="all, delete-orphan", lazy="selectin"
    )


class CraneDocument(Base):
    __tablename__ = "crane_document"

    crane_id: Mapped[int] = mapped_column(ForeignKey("crane.id"), primary_key=True)
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachment.id"), primary_key=True)
    doc_type: Mapped[str] = mapped_column(String(32))

    crane: Mapped[Crane] = relationship(back_populates="documents")
    attachment = relationship("Attachment", lazy="joined")


class RecordNumberSequence(Base):
    """Last serial issued per (city plate, type letter, year): locked while a number is issued."""

    __tablename__ = "record_number_sequence"

    city: Mapped[str] = mapped_column(String(1), primary_key=True)
    type_letter: Mapped[str] = mapped_column(String(1), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_serial: Mapped[int] = mapped_column(Integer, default=0)
