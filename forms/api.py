"""Schemas for the JSON API's own request bodies and query strings."""
from marshmallow import ValidationError, fields, validates

from engine.domain.regions import get_region, is_within

from .base import BaseSchema, Length, OneOf, Range, text
from .messages import t


class SessionRequest(BaseSchema):
    username = text(64, title=("用户名", "Username"))
    password = fields.String(required=True, validate=Length(1, 256))


class StartCaseRequest(BaseSchema):
    process_key = text(64, title=("业务流程", "Procedure"))
    data = fields.Dict(load_default=None, allow_none=True)


class CompleteTaskRequest(BaseSchema):
    data = fields.Dict(required=True)


TASK_SORTS = ("due_asc", "due_desc")
TASK_CLAIM_FILTERS = ("me", "unclaimed")


class TrimmedQuery(fields.String):
    """Search text: surrounding blanks dropped, blank text means no search."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip() or None


class JurisdictionQuery(BaseSchema):
    """A query with a `region` filter that must lie within the caller's jurisdiction (when it has one)."""

    region = fields.String(load_default=None, validate=Length(6, 6))

    def __init__(self, *args, jurisdiction: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.jurisdiction = jurisdiction

    @validates("region")
    def _region(self, value, **kwargs):
        if value is None:
            return
        if get_region(value) is None:
            raise ValidationError(t("region_unknown"))
        if self.jurisdiction is not None and not is_within(value, self.jurisdiction):
            raise ValidationError(t("region_outside_jurisdiction"))


class TaskQuery(JurisdictionQuery):
    """Inbox filters. `jurisdiction` (a regulator's region code) bounds the `region` filter."""

    process_key = fields.String(load_default=None, validate=Length(1, 64))
    status = fields.String(load_default="open", validate=OneOf(("open", "completed")))
    overdue = fields.Boolean(load_default=False)
    claimed = fields.String(load_default=None, validate=OneOf(TASK_CLAIM_FILTERS))
    q = TrimmedQuery(load_default=None)
    sort = fields.String(load_default="due_asc", validate=OneOf(TASK_SORTS))
    page = fields.Integer(load_default=1, validate=Range(1, 100000))
    per_page = fields.Integer(load_default=20, validate=Range(1, 100))

    @validates("q")
    def _q(self, value, **kwargs):
        # One character matches nearly every title: a scan that narrows nothing.
        if value is not None and len(value) < 2:
            raise ValidationError(t("search_too_short"))
        if value is not None and len(value) > 64:
            raise ValidationError(t("length_max", max=64))


class ListQuery(BaseSchema):
    page = fields.Integer(load_default=1, validate=Range(1, 100000))
    per_page = fields.Integer(load_default=20, validate=Range(1, 100))
    status = fields.String(load_default=None, validate=Length(1, 32))


class ReassignRequest(BaseSchema):
    user_id = fields.Integer(required=True, validate=Range(1, 2**31 - 1), metadata={"title": ("转交给", "Reassign to")})
    reason = text(500, title=("转交理由", "Reason"))
