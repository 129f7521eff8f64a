"""Base schema and validators whose messages follow the request's language."""
from marshmallow import RAISE, Schema, ValidationError, fields

from .messages import t

_TYPE_MESSAGES = (
    (fields.Boolean, "type_boolean"),
    (fields.Integer, "type_integer"),
    (fields.Number, "type_number"),
    (fields.Date, "type_date"),
    (fields.List, "type_list"),
    (fields.String, "type_string"),
)


class BaseSchema(Schema):
    """Unknown fields are refused; every default message is localised at bind time."""

    class Meta:
        unknown = RAISE

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.error_messages = {**self.error_messages, "unknown": t("unknown"), "type": t("invalid")}

    def on_bind_field(self, field_name, field_obj):
        messages = {"required": t("required"), "null": t("null"), "invalid": t("invalid")}
        for cls, key in _TYPE_MESSAGES:
            if isinstance(field_obj, cls):
                messages["invalid"] = t(key)
                if isinstance(field_obj, fields.Date):
                    messages["format"] = t(key)
                if isinstance(field_obj, fields.Number):
                    messages["too_large"] = t("too_large")
                    messages["special"] = t(key)  # NaN / Infinity
                break
        field_obj.error_messages = {**field_obj.error_messages, **messages}
        if isinstance(field_obj, fields.List):  # element messages too (e.g. attachment ids)
            self.on_bind_field(field_name, field_obj.inner)


class Length:
    def __init__(self, min: int = 0, max: int | None = None):
        self.min, self.max = min, max

    def __call__(self, value):
        if len(value) < self.min or (self.max is not None and len(value) > self.max):
            if self.min:
                raise ValidationError(t("length_between", min=self.min, max=self.max))
            raise ValidationError(t("length_max", max=self.max))


class Range:
    def __init__(self, min=None, max=None):
        self.min, self.max = min, max

    def __call__(self, value):
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            if self.max is None:
                raise ValidationError(t("range_min", min=self.min))
            raise ValidationError(t("range_between", min=self.min, max=self.max))


class OneOf:
    def __init__(self, choices, labels: dict | None = None):
        self.choices = tuple(choices)
        self.labels = labels or {}

    def __call__(self, value):
        if value not in self.choices:
            raise ValidationError(t("one_of", choices=", ".join(map(str, self.choices))))


def text(max_length: int, required: bool = True, title=("", ""), **kwargs) -> fields.String:
    """A trimmed, length-limited text field."""
    return TrimmedString(required=required, validate=Length(1 if required else 0, max_length),
                         metadata={"title": title}, **kwargs)


class TrimmedString(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        return result.strip()
