"""Periodic reports (报表报送): the province's report definition, a region's filled report and the
province's review; the filled values are checked by a schema built from the definition's fields."""
import re
from datetime import date
from decimal import Decimal

from marshmallow import RAISE, Schema, ValidationError, fields, validates_schema

from .base import BaseSchema, Length, OneOf, Range, TrimmedString, text
from .messages import pick, t

FIELD_TYPES = {"integer": ("整数", "Whole number"), "decimal": ("小数", "Decimal"), "text": ("文本", "Text")}
PERIOD_TYPES = {"month": ("月报", "Monthly"), "quarter": ("季报", "Quarterly")}
# Figures the system computes for a region and period (engine.services.report_prefill), by key.
PREFILL_SOURCES = {
    "cranes_filed": ("产权备案办结（准予）台数", "Crane filings approved"),
    "installation_notices": ("安装告知受理件数", "Installation notices received"),
    "use_registrations": ("使用登记办结（准予）台数", "Use registrations approved"),
    "cancellations": ("备案注销办结台数", "Record cancellations approved"),
    "inspections": ("监督检查次数", "Spot checks"),
    "hazards": ("检查发现隐患条数", "Hazards found"),
    "overdue_rectifications": ("逾期未整改通知书份数", "Rectification notices gone overdue"),
}
DECISIONS = {"accept": ("审核通过", "Accept"), "return": ("退回修改", "Return for correction")}
KEY = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_FIELDS = 30
MAX_DECIMAL = Decimal("999999999999.99")
QUARTERS = ("一", "二", "三", "四")


def period_of(period_type: str, year: int, number: int) -> tuple[str, date, date]:
    """The period's label (Chinese convention) and its first and last day."""
    if period_type == "month":
        start = date(year, number, 1)
        end = date(year + (number == 12), number % 12 + 1, 1)
        return f"{year}年{number}月", start, date.fromordinal(end.toordinal() - 1)
    start = date(year, 3 * number - 2, 1)
    end = date(year + (number == 4), (3 * number) % 12 + 1, 1)
    return f"{year}年第{QUARTERS[number - 1]}季度", start, date.fromordinal(end.toordinal() - 1)


class ReportFieldSchema(BaseSchema):
    key = fields.String(required=True, metadata={"title": ("字段代码", "Key")})
    label_zh = text(60, title=("中文名称", "Chinese label"))
    label_en = text(80, required=False, load_default="", title=("英文名称", "English label"))
    type = fields.String(required=True, validate=OneOf(FIELD_TYPES),
                         metadata={"title": ("类型", "Type"), "labels": FIELD_TYPES})
    required = fields.Boolean(load_default=False, metadata={"title": ("必填", "Required")})
    prefill = fields.String(load_default="", validate=OneOf(("", *PREFILL_SOURCES)),
                            metadata={"title": ("预填来源", "Pre-fill source"), "labels": PREFILL_SOURCES})

    @validates_schema
    def _rules(self, data, **kwargs):
        if "key" in data and not KEY.match(data["key"]):
            raise ValidationError({"key": [t("report_field_key")]})
        if data.get("prefill") and data.get("type") != "integer":
            raise ValidationError({"prefill": [t("report_prefill_integer")]})


class ReportDefinitionSchema(BaseSchema):
    title = text(200, title=("报表名称", "Title"))
    period_type = fields.String(required=True, validate=OneOf(PERIOD_TYPES),
                                metadata={"title": ("报表周期", "Period"), "labels": PERIOD_TYPES})
    year = fields.Integer(required=True, strict=True, validate=Range(2020, 2100), metadata={"title": ("年度", "Year")})
    number = fields.Integer(required=True, strict=True, validate=Range(1, 12),
                            metadata={"title": ("月份 / 季度", "Month / quarter")})
    deadline_on = fields.Date(required=True, metadata={"title": ("报送截止日期", "Deadline")})
    include_counties = fields.Boolean(load_default=False, metadata={"title": ("区县也须报送", "Counties report too")})
    fields_ = fields.List(fields.Nested(ReportFieldSchema), required=True, data_key="fields",
                          validate=Length(1, MAX_FIELDS), metadata={"title": ("报表字段", "Fields")})
    publish = fields.Boolean(load_default=False, metadata={"title": ("立即发布", "Publish now")})

    @validates_schema
    def _rules(self, data, **kwargs):
        if data.get("period_type") == "quarter" and data.get("number", 1) > 4:
            raise ValidationError({"number": [t("range_between", min=1, max=4)]})
        keys = [f["key"] for f in data.get("fields_") or []]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise ValidationError({"fields": [t("report_field_duplicate", keys="、".join(duplicates))]})
        if {"period_type", "year", "number", "deadline_on"} <= set(data):
            _, start, _ = period_of(data["period_type"], data["year"], data["number"])
            if data["deadline_on"] < start:
                raise ValidationError({"deadline_on": [t("report_deadline_before_period")]})


class ReportFillSchema(BaseSchema):
    """What the filler submits: the values by field key (checked against the definition's fields
    by `values_schema` when the submission is recorded)."""

    values = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), required=True,
                         metadata={"title": ("报表数据", "Report values")})


class ReportReviewSchema(BaseSchema):
    decision = fields.String(required=True, validate=OneOf(DECISIONS),
                             metadata={"title": ("审核结论", "Decision"), "labels": DECISIONS})
    reason = text(2000, required=False, load_default="", title=("退回理由", "Reason for return"))

    @validates_schema
    def _reason_when_returned(self, data, **kwargs):
        if data.get("decision") == "return" and not data.get("reason"):
            raise ValidationError({"reason": [t("reason_required")]})


def field_label(field: dict) -> str:
    return pick((field["label_zh"], field.get("label_en") or field["label_zh"]))


def _value_field(field: dict):
    label = field_label(field)
    required = bool(field.get("required"))
    messages = {"required": t("report_value_required", label=label), "null": t("report_value_required", label=label)}
    if field["type"] == "integer":
        return fields.Integer(required=required, allow_none=not required, strict=True, validate=Range(0, 10**12),
                              error_messages={**messages, "invalid": t("report_value_integer", label=label)})
    if field["type"] == "decimal":
        return fields.Decimal(required=required, allow_none=not required, places=2, as_string=True,
                              allow_nan=False, validate=Range(Decimal(0), MAX_DECIMAL),
                              error_messages={**messages, "invalid": t("report_value_number", label=label),
                                              "special": t("report_value_number", label=label)})
    return TrimmedString(required=required, allow_none=not required,
                         validate=Length(1 if required else 0, 2000),
                         error_messages={**messages, "invalid": t("report_value_text", label=label)})


def values_schema(definition_fields: list[dict]) -> Schema:
    """A schema for one definition's values: a required field may not be left out or empty."""
    schema = Schema.from_dict({f["key"]: _value_field(f) for f in definition_fields}, name="ReportValues")(
        unknown=RAISE)
    schema.error_messages = {**schema.error_messages, "unknown": t("unknown"), "type": t("invalid")}
    return schema


def load_values(definition_fields: list[dict], values: dict) -> dict:
    """Validated values, JSON-ready (decimals as text); ValidationError names the fields. A
    required text left blank counts as missing."""
    cleaned = {k: (None if isinstance(v, str) and not v.strip() and k in _required(definition_fields) else v)
               for k, v in values.items()}
    schema = values_schema(definition_fields)
    return schema.dump(schema.load(cleaned))


def _required(definition_fields: list[dict]) -> set[str]:
    return {f["key"] for f in definition_fields if f.get("required")}
