"""Certificates issued for a crane's record filing and use registration, signed and registered.

`data` is the snapshot of the public facts printed on the certificate; `signature` is the
Ed25519 signature of its canonical JSON (engine.services.certificates.canonical), so a printed or
downloaded certificate can be checked against the register and offline.
"""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, JSONType, utcnow
from .types import UTCDateTime

CERTIFICATE_KINDS = ("filing", "use_registration")
# valid → superseded (a later certificate of the same kind) | revoked (the fact was cancelled)
CERTIFICATE_STATUSES = ("valid", "superseded", "revoked")


class IssuedCertificate(Base):
    __tablename__ = "issued_certificate"
    __table_args__ = (Index("ix_issued_certificate_crane_kind_status", "crane_id", "kind", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # ASCII form, e.g. BA-A-2026000123; the printed form 鄂A建机备证〔2026〕第000123号 derives from it.
    number: Mapped[str] = mapped_column(String(24), unique=True)
    kind: Mapped[str] = mapped_column(String(24))
    crane_id: Mapped[int] = mapped_column(ForeignKey("crane.id"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    authority_region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    data: Mapped[dict] = mapped_column(JSONType)
    signature: Mapped[str] = mapped_column(String(100))  # base64url, unpadded
    # Recorded by the first download or upload check, not at issue (set once, never changed).
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="valid")
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # superseded | record_cancelled | use_registration_cancelled
    revoked_reason: Mapped[str | None] = mapped_column(String(32))
