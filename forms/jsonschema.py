"""Describe a marshmallow schema as JSON Schema (draft 2020-12) for API clients and form renderers."""
from marshmallow import fields

from .base import Length, OneOf, Range
from .messages import current_locale


def _title(field) -> str | None:
    title = field.metadata.get("title")
    if not title:
        return None
    return title[0] if current_locale.get().startswith("zh") else title[1]


def _validators(field):
    validate = field.validate
    if validate is None:
        return []
    return list(validate) if isinstance(validate, (list, tuple)) else [validate]


def field_schema(field) -> dict:
    if isinstance(field, fields.Nested):
        out = schema_to_json(field.schema)
    elif isinstance(field, fields.List):
        out = {"type": "array", "items": field_schema(field.inner)}
        if type(field).__name__ == "AttachmentIds":
            out["x-attachments"] = True
        labels = field.metadata.get("labels")
        if labels and "enum" in out["items"]:
            zh = current_locale.get().startswith("zh")
            out["items"]["x-labels"] = {k: (pair[0] if zh else pair[1]) for k, pair in labels.items()}
    elif isinstance(field, fields.Dict):  # keys chosen by data elsewhere (e.g. a report's fields)
        out = {"type": "object", "properties": {}, "additionalProperties": True}
    elif isinstance(field, fields.Boolean):
        out = {"type": "boolean"}
    elif isinstance(field, fields.Integer):
        out = {"type": "integer"}
    elif isinstance(field, fields.Number):
        out = {"type": "number"}
    elif isinstance(field, fields.Date):
        out = {"type": "string", "format": "date"}
    else:
        out = {"type": "string"}
        if type(field).__name__ == "ResidentId":  # read-only displays show it masked
            out["x-resident-id"] = True
    if field.allow_none and "type" in out:
        out["type"] = [out["type"], "null"]
    for v in _validators(field):
        if isinstance(v, OneOf):
            out["enum"] = list(v.choices)
            labels = field.metadata.get("labels")
            if labels:
                zh = current_locale.get().startswith("zh")
                out["x-labels"] = {k: (pair[0] if zh else pair[1]) for k, pair in labels.items()}
        elif isinstance(v, Length):
            out["minLength"] = v.min
            if v.max is not None:
                out["maxLength"] = v.max
        elif isinstance(v, Range):
            if v.min is not None:
                out["minimum"] = v.min
            if v.max is not None:
                out["maximum"] = v.max
    title = _title(field)
    if title:
        out["title"] = title
    return out


def schema_to_json(schema) -> dict:
    props, required = {}, []
    for name, field in schema.fields.items():
        if field.dump_only:
            continue
        props[name] = field_schema(field)
        if field.required:
            required.append(name)
    return {"type": "object", "properties": props, "required": required, "additionalProperties": False}
