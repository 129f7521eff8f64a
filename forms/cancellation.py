"""Record cancellation / transfer request (备案注销, domain.md §2.7) and a generic review decision."""
from marshmallow import ValidationError, fields, validates_schema

from .base import BaseSchema, OneOf, text
from .fields import AttachmentIds, Uscc
from .messages import t
from .review import ReviewDecisionSchema

REASONS = ("scrapped", "over_age", "below_standard", "banned", "transfer", "leaving")
REASON_LABELS = {
    "scrapped": ("报废", "Scrapped"), "over_age": ("超过安全技术标准或制造厂规定的使用年限", "Past its service life"),
    "below_standard": ("经检验达不到安全技术标准", "Below the safety standard on inspection"),
    "banned": ("属国家明令淘汰或禁止使用", "Banned model"), "transfer": ("产权转让", "Transfer of ownership"),
    "leaving": ("迁出本地", "Moving out of the jurisdiction"),
}


class CancellationEvidenceSchema(BaseSchema):
    evidence = AttachmentIds(load_default=list, metadata={"title": ("证明材料", "Evidence")})


class CancellationRequestSchema(BaseSchema):
    crane_id = fields.Integer(required=True, strict=True, metadata={"title": ("设备（内部编号）", "Crane id")})
    reason = fields.String(required=True, validate=OneOf(REASONS),
                           metadata={"title": ("注销原因", "Reason"), "labels": REASON_LABELS})
    transferee_name = text(200, required=False, load_default=None, allow_none=True,
                           title=("受让单位名称", "Transferee"))
    transferee_uscc = Uscc(load_default=None, allow_none=True,
                           metadata={"title": ("受让单位统一社会信用代码", "Transferee's credit code")})
    remarks = text(1000, required=False, load_default="", title=("说明", "Remarks"))
    documents = fields.Nested(CancellationEvidenceSchema, load_default=dict, metadata={"title": ("申报材料", "Documents")})

    @validates_schema
    def _transfer_needs_transferee(self, data, **kwargs):
        if data.get("reason") == "transfer":
            errors = {name: [t("transferee_required")] for name in ("transferee_name", "transferee_uscc")
                      if not data.get(name)}
            if errors:
                raise ValidationError(errors)


class DecisionReviewSchema(ReviewDecisionSchema):
    """The same decision as a filing review, labelled for requests that are not filings."""

    decision = fields.String(required=True, validate=OneOf(("approve", "return", "reject")),
                             metadata={"title": ("审核结论", "Decision"),
                                       "labels": {"approve": ("同意", "Approve"),
                                                  "return": ("退回补正", "Return for correction"),
                                                  "reject": ("不同意", "Refuse")}})
