"""Notification settings (the user's own email and language) and the list's query parameters."""
import re

from marshmallow import ValidationError, fields, validates

from .base import BaseSchema, Length, OneOf, Range, TrimmedString
from .messages import t

LANGUAGES = {"zh_CN": ("简体中文", "Simplified Chinese"), "en": ("English", "English")}
# One @, no spaces, a dotted domain: enough to catch typing mistakes; the server decides the rest.
EMAIL = re.compile(r"^[^@\s]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")


class NotificationContactSchema(BaseSchema):
    email = TrimmedString(load_default="", validate=Length(0, 254),
                          metadata={"title": ("通知邮箱", "Notification email"),
                                    "description": ("留空则只接收站内通知", "leave empty for in-app notices only")})
    locale = fields.String(load_default="zh_CN", validate=OneOf(LANGUAGES, LANGUAGES),
                           metadata={"title": ("通知语言", "Notification language")})

    @validates("email")
    def _email(self, value, **kwargs):
        if value and (not EMAIL.match(value) or len(value.split("@")[0]) > 64):
            raise ValidationError(t("email_format"))


class NotificationQuery(BaseSchema):
    page = fields.Integer(load_default=1, validate=Range(1, 100000))
    per_page = fields.Integer(load_default=20, validate=Range(1, 100))
    unread = fields.Boolean(load_default=False)
