"""Enterprises, their declared roles, and user accounts."""
from datetime import datetime

from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, UniqueConstraint, false
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
    legal_representative_id: Mapped[str | None] = mapped_column(String(18))  # shown masked only
    contact_person: Mapped[str | None] = mapped_column(String(64))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    integrated: Mapped[bool] = mapped_column(Boolean, default=False)
    # An integrated owner without its own installation qualification names the one installer it
    # has contracted; only that installer (or the owner) works on its cranes.
    partner_installer_uscc: Mapped[str | None] = mapped_column(String(18))
    qualification_no: Mapped[str | None] = mapped_column(String(64))
    qualification_category: Mapped[str | None] = mapped_column(String(100))
    qualification_grade: Mapped[str | None] = mapped_column(String(32))
    qualification_valid_until: Mapped[date | None] = mapped_column(Date)
    safety_licence_no: Mapped[str | None] = mapped_column(String(64))
    safety_licence_valid_until: Mapped[date | None] = mapped_column(Date)
    technical_lead: Mapped[str | None] = mapped_column(String(64))
    # unfiled (signed up) → pending → approved | returned | rejected
    status: Mapped[str] = mapped_column(String(16), default="unfiled")
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    role_rows: Mapped[list["EnterpriseRole"]] = relationship(
        back_populates="enterprise", cascade="all, delete-orphan", lazy="selectin"
    )
    region = relationship("Region")

    @property
    def roles(self) -> set[str]:
        return {r.role for r in self.role_rows}


class EnterpriseStaff(Base):
    """Safety staff (安管人员) declared in the approved filing."""

    __tablename__ = "enterprise_staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    certificate_no: Mapped[str] = mapped_column(String(40))
    valid_until: Mapped[date | None] = mapped_column(Date)


class EnterpriseDocument(Base):
    __tablename__ = "enterprise_document"

    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), primary_key=True)
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachment.id"), primary_key=True)
    doc_type: Mapped[str] = mapped_column(String(32))


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
    # Where notifications are also sent by email (none: in-app only).
    email: Mapped[str | None] = mapped_column(String(254))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    # Bumped on password change or logout-everywhere: invalidates issued API tokens.
    token_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # May manage the accounts below it: a regulator-kind admin those of its region one level down,
    # an enterprise admin the ordinary users of its own enterprise.
    account_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Set by an administrator's password reset; every page leads to the change-password form.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    enterprise: Mapped[Enterprise | None] = relationship(lazy="joined")
    region = relationship("Region")
