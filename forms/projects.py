"""The project ledger (项目台账): listing projects and a regulator's change of a project's status."""
from marshmallow import fields

from .base import BaseSchema, Length, OneOf, Range, text

PROJECT_STATUSES = {"under_construction": ("在建", "Under construction"), "completed": ("完工", "Completed")}


class ProjectQuery(BaseSchema):
    page = fields.Integer(load_default=1, validate=Range(1, 100000))
    per_page = fields.Integer(load_default=20, validate=Range(1, 100))
    status = fields.String(load_default=None, validate=OneOf(PROJECT_STATUSES))
    q = fields.String(load_default=None, validate=Length(1, 64))


class ProjectStatusSchema(BaseSchema):
    status = fields.String(required=True, validate=OneOf(PROJECT_STATUSES),
                           metadata={"title": ("项目状态", "Project status"), "labels": PROJECT_STATUSES})
    reason = text(500, required=False, load_default="", title=("说明", "Reason"))
