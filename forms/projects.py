"""The project ledger (项目台账): listing projects and a regulator's change of a project's status."""
from marshmallow import ValidationError, fields, validates_schema

from .base import BaseSchema, Length, OneOf, Range, text
from .messages import t

PROJECT_STATUSES = {"under_construction": ("在建", "Under construction"), "completed": ("完工", "Completed"),
                    # The site is not in the authority's region: handed back until the next notice
                    # names the right region.
                    "returned": ("非本辖区，已退回", "Returned: not in this region")}


class ProjectQuery(BaseSchema):
    page = fields.Integer(load_default=1, validate=Range(1, 100000))
    per_page = fields.Integer(load_default=20, validate=Range(1, 100))
    status = fields.String(load_default=None, validate=OneOf(PROJECT_STATUSES))
    q = fields.String(load_default=None, validate=Length(1, 64))


class ProjectStatusSchema(BaseSchema):
    status = fields.String(required=True, validate=OneOf(PROJECT_STATUSES),
                           metadata={"title": ("项目状态", "Project status"), "labels": PROJECT_STATUSES})
    reason = text(500, required=False, load_default="", title=("说明", "Reason"))

    @validates_schema
    def _reason_to_return(self, data, **kwargs):
        if data.get("status") == "returned" and not data.get("reason"):
            raise ValidationError({"reason": [t("project_return_reason")]})
