"""Audit chain heads and the results of verifying the chains."""
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, JSONType, utcnow
from .types import UTCDateTime


class AuditChain(Base):
    """The last link of one audit chain: a chain whose last rows were removed no longer reaches it."""

    __tablename__ = "audit_chain"

    chain: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuditVerification(Base):
    """One run of the audit chain verification and what it found."""

    __tablename__ = "audit_verification"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    seconds: Mapped[float] = mapped_column(Float)
    scope: Mapped[str | None] = mapped_column(String(64))  # one chain, or None for all of them
    chains: Mapped[int] = mapped_column(Integer)
    events: Mapped[int] = mapped_column(Integer)
    # The first broken link of each broken chain: [{chain, seq, event_id, instance_id, reason}, …]
    broken: Mapped[list] = mapped_column(JSONType, default=list)
    run_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
