"""A crane's operation records (domain.md §2.5, §3, §5): periodic self-check, maintenance, repair,
fault and safety assessment, as the owner, the user on site or the installer writes them into the
safety archive."""
from marshmallow import ValidationError, fields, validates_schema

from .base import BaseSchema, OneOf, text
from .fields import AttachmentIds, PastDate, Uscc
from .messages import current_locale, t

KINDS = {"self_check": ("定期自行检查", "Periodic self-check"), "maintenance": ("维护保养", "Maintenance"),
         "repair": ("维修和技术改造", "Repair or modification"), "fault": ("运行故障和事故", "Fault or accident"),
         "assessment": ("安全评估（JGJ/T 189）", "Safety assessment (JGJ/T 189)")}
SELF_CHECK_RESULTS = {"normal": ("正常", "Normal"), "defects": ("发现问题（已记录）", "Defects found (recorded)")}
ASSESSMENT_RESULTS = {"qualified": ("评估合格", "Qualified"), "unqualified": ("评估不合格", "Not qualified")}
RESULTS = {**SELF_CHECK_RESULTS, **ASSESSMENT_RESULTS}
RESULTS_OF = {"self_check": SELF_CHECK_RESULTS, "assessment": ASSESSMENT_RESULTS}
# What a periodic check of a tower crane or hoist covers (JGJ 196 / JGJ 215 use-and-check items).
SELF_CHECK_ITEMS = {
    "structure": ("金属结构件、焊缝", "Steel structure and welds"),
    "bolts_pins": ("连接螺栓、销轴", "Bolts and pins"),
    "wire_rope": ("钢丝绳、吊钩、滑轮、卷筒", "Wire rope, hook, sheaves, drum"),
    "safety_devices": ("安全装置（限位、限制器、防坠器）", "Safety devices (limits, limiters, fall arrest)"),
    "electrical": ("电气系统、接地", "Electrical system and earthing"),
    "foundation_anchorage": ("基础、附着装置", "Foundation and anchorage"),
    "brakes": ("制动器、传动机构", "Brakes and drives"),
}


def operation_labels() -> dict[str, dict[str, str]]:
    index = 0 if current_locale.get().startswith("zh") else 1
    return {group: {key: pair[index] for key, pair in choices.items()} for group, choices in (
        ("kinds", KINDS), ("results", RESULTS), ("items", SELF_CHECK_ITEMS))}


class OperationRecordSchema(BaseSchema):
    kind = fields.String(required=True, validate=OneOf(KINDS, KINDS),
                         metadata={"title": ("记录类型", "Record type"), "labels": KINDS})
    performed_on = PastDate(required=True, metadata={"title": ("日期", "Date")})
    person_in_charge = text(64, title=("负责人", "Person in charge"))
    maintainer_uscc = Uscc(load_default=None, allow_none=True, metadata={
        "title": ("维保（维修）单位统一社会信用代码", "Maintainer's unified social credit code")})
    result = fields.String(load_default=None, allow_none=True, validate=OneOf(RESULTS, RESULTS),
                           metadata={"title": ("检查（评估）结论", "Result"), "labels": RESULTS})
    items = fields.List(fields.String(validate=OneOf(SELF_CHECK_ITEMS, SELF_CHECK_ITEMS)), load_default=list,
                        metadata={"title": ("检查项目", "Items checked"), "labels": SELF_CHECK_ITEMS})
    assessor_uscc = Uscc(load_default=None, allow_none=True, metadata={
        "title": ("评估机构统一社会信用代码", "Assessing body's unified social credit code")})
    report_number = text(64, required=False, load_default=None, allow_none=True,
                         title=("评估报告编号", "Assessment report no."))
    summary = text(2000, title=("内容", "Details"))
    resolves = fields.Integer(strict=True, load_default=None, allow_none=True,
                              metadata={"title": ("所修复的故障记录", "Fault put right")})
    attachments = AttachmentIds(load_default=list, metadata={"title": ("附件", "Attachments")})

    @validates_schema
    def _by_kind(self, data, **kwargs):
        errors = {}
        kind = data.get("kind")
        results = RESULTS_OF.get(kind)
        if results is None:
            if data.get("result"):
                errors["result"] = [t("only_for_checks")]
            if data.get("items"):
                errors["items"] = [t("only_for_self_check")]
        elif not data.get("result"):
            errors["result"] = [t("required")]
        elif data["result"] not in results:
            errors["result"] = [t("one_of", choices=", ".join(results))]
        if kind == "self_check" and not data.get("items"):
            errors["items"] = [t("self_check_items_required")]
        if kind == "assessment":
            if data.get("items"):
                errors["items"] = [t("only_for_self_check")]
            for name in ("assessor_uscc", "report_number"):
                if not data.get(name):
                    errors[name] = [t("required")]
        else:
            for name in ("assessor_uscc", "report_number"):
                if data.get(name):
                    errors[name] = [t("only_for_assessment")]
        if data.get("resolves") is not None and kind != "repair":
            errors["resolves"] = [t("resolves_only_repair")]
        if data.get("maintainer_uscc") and kind not in ("maintenance", "repair"):
            errors["maintainer_uscc"] = [t("maintainer_only_maintenance")]
        if len(set(data.get("items") or ())) != len(data.get("items") or ()):
            errors["items"] = [t("duplicate_items")]
        if errors:
            raise ValidationError(errors)
