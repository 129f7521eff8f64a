"""Special-operations personnel (特种作业人员) and safety managers (安管人员) with their certificates."""
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow
from .types import UTCDateTime

CERTIFICATE_KINDS = ("special_operation", "safety_manager")


class Person(Base):
    __tablename__ = "person"
    __table_args__ = (UniqueConstraint("enterprise_id", "id_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    id_number: Mapped[str] = mapped_column(String(18), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    certificates: Mapped[list["Certificate"]] = relationship(
        back_populates="person", cascade="all, delete-orphan", lazy="selectin", order_by="Certificate.id")


class Certificate(Base):
    __tablename__ = "certificate"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))  # special_operation | safety_manager
    category: Mapped[str] = mapped_column(String(4))  # 01–11, or A / B / C1 / C2 / C3
    number: Mapped[str] = mapped_column(String(40), unique=True)
    issuer: Mapped[str] = mapped_column(String(100))
    issued_on: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)

    person: Mapped[Person] = relationship(back_populates="certificates")
