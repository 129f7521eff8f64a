"""A regulator's review decision: approve, return for correction, or reject (reason required)."""
from marshmallow import ValidationError, fields, validates_schema

from .base import BaseSchema, OneOf, text
from .messages import t

DECISIONS = ("approve", "return", "reject")


class ReviewDecisionSchema(BaseSchema):
    decision = fields.String(required=True, validate=OneOf(DECISIONS),
                             metadata={"title": ("审核结论", "Decision"),
                                       "labels": {"approve": ("准予备案", "Approve"),
                                                  "return": ("退回补正", "Return for correction"),
                                                  "reject": ("不予备案", "Reject")}})
    reason = text(2000, required=False, load_default="", title=("理由 / 补正意见", "Reason / corrections"))

    @validates_schema
    def _reason_when_not_approved(self, data, **kwargs):
        if data.get("decision") in ("return", "reject") and not data.get("reason"):
            raise ValidationError({"reason": [t("reason_required")]})
