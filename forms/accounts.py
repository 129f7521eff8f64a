"""Account administration: creating accounts, resets, password changes and the account list filters."""
import re

from marshmallow import ValidationError, fields, validates, validates_schema

from engine.domain.regions import LEVELS, get_region

from .api import JurisdictionQuery
from .base import BaseSchema, Length, OneOf, Range, TrimmedString, text
from .messages import t

USERNAME = re.compile(r"^[A-Za-z0-9_.-]+$")
LEVEL_LABELS = {"province": ("省级", "Province"), "city": ("市级", "City"), "county": ("县级", "County")}
ACCOUNT_STATUSES = ("active", "disabled", "locked")


def password_policy_ok(password: str) -> bool:
    """The sign-up rule (forms/enterprise.py): at least 10 characters with letters and digits."""
    return len(password) >= 10 and bool(re.search(r"[A-Za-z]", password)) and bool(re.search(r"\d", password))


def _password(required: bool, title) -> fields.String:
    kwargs = {"required": True} if required else {"load_default": None, "allow_none": True}
    return fields.String(validate=Length(1, 256), metadata={"title": title}, **kwargs)


def _check_password(value):
    if value is not None and not password_policy_ok(value):
        raise ValidationError(t("password_policy"))


class AccountCreateSchema(BaseSchema):
    """A regulator (or a lower-level administrator) for regional admins; a user for enterprise admins.

    The creator's jurisdiction and level are checked by the service (403 with the reason);
    here only the shape: a known region whose level is the chosen level.
    """

    username = TrimmedString(required=True, validate=Length(3, 64), metadata={"title": ("用户名", "Username")})
    display_name = text(100, title=("姓名", "Name"))
    password = _password(False, ("初始密码（留空则自动生成）", "Initial password (blank: generated)"))
    regulator_level = fields.String(load_default=None, allow_none=True, validate=OneOf(LEVELS),
                                    metadata={"title": ("层级", "Level"), "labels": LEVEL_LABELS})
    region_code = fields.String(load_default=None, allow_none=True, validate=Length(6, 6),
                                metadata={"title": ("行政区划", "Region")})
    account_admin = fields.Boolean(load_default=False, metadata={"title": ("账户管理员", "Account administrator")})

    @validates("username")
    def _username(self, value, **kwargs):
        if not USERNAME.match(value):
            raise ValidationError(t("username_format"))

    @validates("password")
    def _password_policy(self, value, **kwargs):
        _check_password(value)

    @validates("region_code")
    def _region(self, value, **kwargs):
        if value is not None and get_region(value) is None:
            raise ValidationError(t("region_unknown"))

    @validates_schema
    def _level_matches_region(self, data, **kwargs):
        level, code = data.get("regulator_level"), data.get("region_code")
        if (level is None) != (code is None):
            missing = "region_code" if code is None else "regulator_level"
            raise ValidationError({missing: [t("required")]})
        region = get_region(code) if code else None
        if region is not None and level is not None and region.level != level:
            raise ValidationError({"region_code": [t("level_region_mismatch")]})


class ResetPasswordSchema(BaseSchema):
    password = _password(False, ("临时密码（留空则自动生成）", "Temporary password (blank: generated)"))

    @validates("password")
    def _password_policy(self, value, **kwargs):
        _check_password(value)


class ChangePasswordSchema(BaseSchema):
    current_password = _password(True, ("当前密码", "Current password"))
    new_password = _password(True, ("新密码", "New password"))
    confirm_password = _password(False, ("确认新密码", "Confirm the new password"))

    @validates("new_password")
    def _password_policy(self, value, **kwargs):
        _check_password(value)

    @validates_schema
    def _confirmed(self, data, **kwargs):
        confirm = data.get("confirm_password")
        if confirm is not None and data.get("new_password") is not None and confirm != data["new_password"]:
            raise ValidationError({"confirm_password": [t("password_mismatch")]})


class AccountQuery(JurisdictionQuery):
    """List filters; `jurisdiction` (a regional admin's region) bounds the region filter."""

    level = fields.String(load_default=None, validate=OneOf(LEVELS))
    status = fields.String(load_default=None, validate=OneOf(ACCOUNT_STATUSES))
    q = fields.String(load_default=None, validate=Length(0, 64))
    page = fields.Integer(load_default=1, validate=Range(1, 100000))
    per_page = fields.Integer(load_default=20, validate=Range(1, 100))

