"""Form registry: one marshmallow schema per BPMN form key. Rules live here, not in views."""
from functools import lru_cache

from marshmallow import Schema, ValidationError

from .cancellation import CancellationRequestSchema, DecisionReviewSchema
from .crane import CraneFilingSchema
from .enterprise import EnterpriseFilingSchema
from .installation import (AcceptanceSignoffSchema, DismantlingNoticeSchema, InspectionReportSchema, InstallationNoticeSchema,
                           JackingNoticeSchema,
                           NoticeAcknowledgementSchema, PartyReviewSchema, RectificationSchema,
                           SelfInspectionSchema, UseRegistrationSchema)
from .inspection import (CountersignSchema, OversightSchema, RectificationReplySchema, ReinspectionSchema,
                         SpotCheckSchema)
from .jsonschema import schema_to_json
from .messages import current_locale, pick, t
from .report_submission import ReportFillSchema, ReportReviewSchema
from .review import ReviewDecisionSchema

FORMS: dict[str, type[Schema]] = {
    "crane_filing": CraneFilingSchema,
    "filing_review": ReviewDecisionSchema,
    "enterprise_filing": EnterpriseFilingSchema,
    "cancellation_request": CancellationRequestSchema,
    "decision_review": DecisionReviewSchema,
    "installation_notice": InstallationNoticeSchema,
    "party_review": PartyReviewSchema,
    "notice_acknowledgement": NoticeAcknowledgementSchema,
    "self_inspection": SelfInspectionSchema,
    "inspection_report": InspectionReportSchema,
    "acceptance_signoff": AcceptanceSignoffSchema,
    "rectification": RectificationSchema,
    "use_registration": UseRegistrationSchema,
    "dismantling_notice": DismantlingNoticeSchema,
    "jacking_notice": JackingNoticeSchema,
    "spot_check": SpotCheckSchema,
    "rectification_reply": RectificationReplySchema,
    "reply_countersign": CountersignSchema,
    "reinspection": ReinspectionSchema,
    "oversight": OversightSchema,
    "report_fill": ReportFillSchema,
    "report_review": ReportReviewSchema,
}


def form_keys() -> set[str]:
    return set(FORMS)


@lru_cache(maxsize=64)
def _schema(form_key: str, locale: str) -> Schema:
    # Schemas are stateless once built, and building one (fields copied, messages bound per
    # language) costs more than validating with it, so keep one per form and language.
    return FORMS[form_key]()


def form_schema(form_key: str) -> Schema:
    return _schema(form_key, current_locale.get())


def load_form(form_key: str, data) -> dict:
    """Validate and convert submitted data; raises marshmallow.ValidationError with field messages."""
    if not isinstance(data, dict):
        raise ValidationError({"_schema": [t("invalid")]})
    return form_schema(form_key).load(data)


def dump_form(form_key: str, cleaned: dict) -> dict:
    """Validated data as JSON-ready values (dates as ISO text)."""
    return form_schema(form_key).dump(cleaned)


def form_json_schema(form_key: str) -> dict:
    return schema_to_json(form_schema(form_key))


__all__ = ["FORMS", "ValidationError", "current_locale", "pick", "dump_form", "form_json_schema", "form_keys",
           "form_schema", "load_form", "t"]
