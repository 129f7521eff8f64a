"""Enterprises, their declared roles, and user accounts."""
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow
from .types import UTCDateTime

ENTERPRISE_ROLES = ("owner", "installer", "user", "supervisor", "inspector", "maintenance")
USER_KINDS = ("enterprise", "regulator", "admin")
REGULATOR_LEVELS = ("province", "city", "county")


class Enterprise(Base):
    __tablename__ = "enterprise"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    address: Mapped[str | None] = mapped_column(String(300))
    legal_representative: Mapped[str | None] = mapped_column(String(64))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    integrated: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="approved")  # pending | approved | rejected
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    role_rows: Mapped[list["EnterpriseRole"]] = relationship(
        back_populates="enterprise", cascade="all, delete-orphan", lazy="selectin"
    )
    region = relationship("Region")

    @property
    def roles(self) -> set[str]:
        return {r.role for r in self.role_rows}


class EnterpriseRole(Base):
    __tablename__ = "enterprise_role"

    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)

    enterprise: Mapped[Enterprise] = relationship(back_populates="role_rows")


class User(Base):
    __tablename__ = "user_account"
    __table_args__ = (UniqueConstraint("username"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"), index=True)
    regulator_level: Mapped[str | None] = mapped_column(String(16))
    region_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"))
    locale: Mapped[str] = mapped_column(String(8), default="zh_CN")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    # Bumped on password change or logout-everywhere: invalidates issued API tokens.
    token_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    enterprise: Mapped[Enterprise | None] = relationship(lazy="joined")
    region = relationship("Region")
