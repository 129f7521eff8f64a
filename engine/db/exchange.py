"""Change records for the data exchange with the national platform and local systems.

One row per change of a filing, registration, notice, inspection or rectification, written in the
transaction of the change. The id is the pull cursor: rows are never updated or deleted, ids are
never reused (AUTOINCREMENT on SQLite), and they become visible in id order (see
engine.services.exchange.write_records).
"""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, JSONType, utcnow
from .types import UTCDateTime


class ExchangeRecord(Base):
    __tablename__ = "exchange_record"
    __table_args__ = (
        # A county reads its own region in cursor order; a city or province scans the id order.
        Index("ix_exchange_record_region_code_id", "region_code", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(String(32))
    operation: Mapped[str] = mapped_column(String(24))
    entity_type: Mapped[str] = mapped_column(String(24))
    entity_id: Mapped[int] = mapped_column(Integer)
    region_code: Mapped[str | None] = mapped_column(String(6))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    payload: Mapped[dict] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
