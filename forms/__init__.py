"""Form registry: one marshmallow schema per BPMN form key. Rules live here, not in views."""
from marshmallow import Schema, ValidationError

from .crane import CraneFilingSchema
from .jsonschema import schema_to_json
from .messages import current_locale, t
from .review import ReviewDecisionSchema

FORMS: dict[str, type[Schema]] = {
    "crane_filing": CraneFilingSchema,
    "filing_review": ReviewDecisionSchema,
}


def form_keys() -> set[str]:
    return set(FORMS)


def load_form(form_key: str, data) -> dict:
    """Validate and convert submitted data; raises marshmallow.ValidationError with field messages."""
    if not isinstance(data, dict):
        raise ValidationError({"_schema": [t("invalid")]})
    return FORMS[form_key]().load(data)


def form_json_schema(form_key: str) -> dict:
    return schema_to_json(FORMS[form_key]())


__all__ = ["FORMS", "ValidationError", "current_locale", "form_json_schema", "form_keys", "load_form", "t"]
