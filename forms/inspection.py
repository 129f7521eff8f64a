"""Safety supervision forms (domain.md §4): the spot check and the notice it issues, the
contractor's reply per hazard, the re-inspection, and the superior authority's oversight."""
from marshmallow import ValidationError, fields, validates_schema

from .base import BaseSchema, Length, OneOf, Range, text
from .fields import AttachmentIds, PastDate, StrictFloat
from .installation import REVIEW_LABELS
from .messages import current_locale, t

CHECK_TYPES = {"routine": ("日常检查", "Routine"), "special": ("专项检查", "Special"),
               "random": ("双随机抽查", "Random"), "follow_up": ("复查", "Follow-up")}
GRADES = {"general": ("一般隐患", "General"), "major": ("重大隐患", "Major")}
# JGJ 59-2011 inspection categories.
CATEGORIES = {
    "safety_management": ("安全管理", "Safety management"), "civilised_site": ("文明施工", "Civilised site"),
    "scaffolding": ("脚手架", "Scaffolding"), "excavation": ("基坑工程", "Excavation"),
    "formwork": ("模板支架", "Formwork"), "work_at_height": ("高处作业", "Work at height"),
    "temporary_power": ("施工用电", "Temporary power"), "hoists": ("物料提升机与施工升降机", "Hoists"),
    "tower_cranes": ("塔式起重机与起重吊装", "Tower cranes and lifting"), "machinery": ("施工机具", "Machinery"),
}
# Crane major hazards (2022 判定标准 Art 8) and the general major hazards on staff and schemes.
CRANE_MAJOR_ITEMS = {
    "unaccepted_or_unregistered": ("未经验收合格即投入使用，或未按规定办理使用登记", "Used before acceptance, or not registered"),
    "tower_geometry": ("塔式起重机独立起升高度、附着间距、最高附着以上悬高或垂直度不符合规范",
                       "Tower crane free height, anchorage spacing, overhang or verticality out of spec"),
    "hoist_geometry": ("施工升降机附着间距、最高附着以上悬高或垂直度不符合规范", "Hoist anchorage spacing, overhang or verticality out of spec"),
    "unchecked_before_works": ("安装、拆卸、顶升加节、附着前未对结构件、顶升机构、附着装置、螺栓销轴、安全装置进行检查",
                               "Structure, jacking gear, anchorage, bolts/pins or safety devices not checked before the works"),
    "safety_devices": ("安全装置不齐全、失效或被违规拆除、破坏", "Safety devices missing, failed, removed or disabled"),
    "fall_arrest_expired": ("施工升降机防坠安全器超过有效标定期限，或导轨架标准节缺少螺栓", "Hoist fall-arrest device past its test validity, or section bolts missing"),
    "foundation": ("基础承载力、变形不满足设计要求", "Foundation capacity or deformation not to design"),
}
GENERAL_MAJOR_ITEMS = {
    "uncertified_staff": ("安管人员或特种作业人员未持证上岗", "Uncertified safety managers or special-operations staff"),
    "no_scheme": ("未编制危大工程专项方案或超危大工程方案未经专家论证", "No scheme for hazardous works, or no expert review"),
}
MAJOR_ITEMS = {**CRANE_MAJOR_ITEMS, **GENERAL_MAJOR_ITEMS}
INSTRUMENTS = {"none": ("未发现隐患，不下发文书", "No hazard: no notice"),
               "rectification": ("整改通知书（限期整改）", "Rectification notice"),
               "stop_work": ("停工整改通知书", "Stop-work notice"),
               "stop_use": ("责令停止使用（单台设备）", "Stop-use order (one crane)")}
SIGNATURES = {"signed": ("建设、施工、监理单位已签字", "Signed by the client, contractor and supervisor"),
              "refused": ("有单位拒绝签字（已记录）", "A party refused to sign (recorded)")}
RESULTS = {"pass": ("合格，销项", "Passed: close the hazard"), "fail": ("不合格，重新限期整改", "Failed: rectify again")}
OVERSIGHT_ACTIONS = {"urge": ("督促整改", "Urge rectification"), "summons": ("约谈企业负责人", "Summon the principal"),
                     "public_notice": ("通报批评", "Public notice"), "penalty": ("移交立案处罚", "Refer for penalty")}
CONDUCT_DECISIONS = {"confirm": ("记入不良行为记录", "Record as bad conduct"), "dismiss": ("不予记录", "Do not record")}


def inspection_labels() -> dict[str, dict[str, str]]:
    """Check types, grades, instruments and hazard items in the request's language, for pages."""
    index = 0 if current_locale.get().startswith("zh") else 1
    return {group: {key: pair[index] for key, pair in choices.items()} for group, choices in (
        ("check_types", CHECK_TYPES), ("grades", GRADES), ("instruments", INSTRUMENTS),
        ("major_items", MAJOR_ITEMS), ("categories", CATEGORIES))}


class InspectorSchema(BaseSchema):
    name = text(64, title=("姓名", "Name"))
    badge_no = text(40, title=("执法证号", "Enforcement ID"))


def _inspectors(title=("检查人员（不少于 2 人）", "Inspectors (at least two)")):
    return fields.List(fields.Nested(InspectorSchema), required=True, validate=Length(2, 10),
                       metadata={"title": title})


class HazardSchema(BaseSchema):
    description = text(1000, title=("隐患描述", "Description"))
    location = text(200, title=("部位", "Location"))
    category = fields.String(required=True, validate=OneOf(CATEGORIES),
                             metadata={"title": ("类别", "Category"), "labels": CATEGORIES})
    grade = fields.String(required=True, validate=OneOf(GRADES),
                          metadata={"title": ("隐患等级", "Grade"), "labels": GRADES})
    major_item = fields.String(load_default=None, allow_none=True, validate=OneOf(MAJOR_ITEMS),
                               metadata={"title": ("重大隐患判定项", "Major-hazard item"), "labels": MAJOR_ITEMS})
    crane_record_number = text(32, required=False, load_default="", title=("涉及设备备案编号", "Crane record number"))
    clause = text(200, required=False, load_default="", title=("违反条款", "Clause breached"))
    photos = AttachmentIds(load_default=list, metadata={"title": ("现场照片", "Photos")})

    @validates_schema
    def _consistent(self, data, **kwargs):
        item = data.get("major_item")
        if item and data.get("grade") != "major":
            raise ValidationError({"grade": [t("major_item_needs_major_grade")]})
        if item in CRANE_MAJOR_ITEMS and not data.get("crane_record_number"):
            raise ValidationError({"crane_record_number": [t("major_item_needs_crane")]})


class SpotCheckDocumentsSchema(BaseSchema):
    photos = AttachmentIds(load_default=list, metadata={"title": ("检查照片", "Photos")})
    record = AttachmentIds(load_default=list, metadata={"title": ("检查记录（签字页）", "Signed check record")})


class SpotCheckSchema(BaseSchema):
    """The regulator's spot check on a project and the notice it issues (domain.md §4.2–§4.4)."""

    project_code = text(32, title=("项目编号", "Project code"))
    check_date = PastDate(required=True, metadata={"title": ("检查日期", "Check date")})
    check_type = fields.String(required=True, validate=OneOf(CHECK_TYPES),
                               metadata={"title": ("检查类型", "Type"), "labels": CHECK_TYPES})
    inspectors = _inspectors()
    hazards = fields.List(fields.Nested(HazardSchema), load_default=list, validate=Length(0, 20),
                          metadata={"title": ("隐患", "Hazards")})
    jgj59_score = StrictFloat(load_default=None, allow_none=True, validate=Range(0, 100),
                              metadata={"title": ("JGJ 59 评分（可选）", "JGJ 59 score (optional)")})
    instrument = fields.String(required=True, validate=OneOf(INSTRUMENTS),
                               metadata={"title": ("处理措施", "Instrument"), "labels": INSTRUMENTS})
    deadline_days = fields.Integer(load_default=None, allow_none=True, validate=Range(0, 60),
                                   metadata={"title": ("整改期限（日，0 为立即整改）", "Deadline (days; 0 = at once)")})
    stop_use_record_number = text(32, required=False, load_default="",
                                  title=("责令停止使用的设备备案编号", "Crane ordered out of use"))
    signatures = fields.String(required=True, validate=OneOf(SIGNATURES),
                               metadata={"title": ("参建单位签字", "Parties' signatures"), "labels": SIGNATURES})
    remarks = text(2000, required=False, load_default="", title=("检查情况 / 拒签说明", "Findings / refusal to sign"))
    documents = fields.Nested(SpotCheckDocumentsSchema, load_default=dict, metadata={"title": ("检查材料", "Documents")})

    @validates_schema
    def _consistent(self, data, **kwargs):
        errors = {}
        hazards, instrument = data.get("hazards") or [], data.get("instrument")
        if instrument == "none" and hazards:
            errors["instrument"] = [t("hazards_need_notice")]
        if instrument and instrument != "none" and not hazards:
            errors["hazards"] = [t("notice_needs_hazards")]
        if instrument == "rectification" and any(h.get("grade") == "major" for h in hazards):
            errors["instrument"] = [t("major_hazard_needs_stop")]
        if instrument not in (None, "none") and data.get("deadline_days") is None:
            errors["deadline_days"] = [t("required")]
        if instrument == "stop_use" and not data.get("stop_use_record_number"):
            errors["stop_use_record_number"] = [t("required")]
        if data.get("signatures") == "refused" and not data.get("remarks"):
            errors["remarks"] = [t("refusal_to_sign_note")]
        if errors:
            raise ValidationError(errors)


class HazardReplySchema(BaseSchema):
    hazard_no = fields.Integer(required=True, validate=Range(1, 20), metadata={"title": ("隐患序号", "Hazard no.")})
    measure = text(2000, title=("整改措施", "Measure taken"))
    completed_on = PastDate(required=True, metadata={"title": ("完成日期", "Completed on")})
    evidence = AttachmentIds(required=True, validate=Length(0, 20),
                             metadata={"title": ("整改前后照片及证明", "Before/after photos and proof")})

    @validates_schema
    def _evidence_not_empty(self, data, **kwargs):
        if "evidence" in data and not data["evidence"]:
            raise ValidationError({"evidence": [t("required")]})


class RectificationReplySchema(BaseSchema):
    """The contractor's reply per hazard, signed by its project manager (B certificate)."""

    items = fields.List(fields.Nested(HazardReplySchema), required=True, validate=Length(1, 20),
                        metadata={"title": ("逐项整改回复", "Reply per hazard")})
    project_manager = text(64, title=("项目负责人", "Project manager"))
    project_manager_cert = text(40, title=("项目负责人安全生产考核合格证书编号（B 证）", "Project manager's B certificate"))


class CountersignSchema(BaseSchema):
    """The chief supervising engineer reviews the reply before it reaches the authority."""

    decision = fields.String(required=True, validate=OneOf(REVIEW_LABELS),
                             metadata={"title": ("总监理工程师审核意见", "Chief supervisor's decision"), "labels": REVIEW_LABELS})
    chief_supervisor = text(64, title=("总监理工程师", "Chief supervising engineer"))
    reason = text(2000, required=False, load_default="", title=("意见 / 补正要求", "Opinion / corrections"))

    @validates_schema
    def _reason_when_returned(self, data, **kwargs):
        if data.get("decision") == "return" and not data.get("reason"):
            raise ValidationError({"reason": [t("reason_required")]})


class HazardResultSchema(BaseSchema):
    hazard_no = fields.Integer(required=True, validate=Range(1, 20), metadata={"title": ("隐患序号", "Hazard no.")})
    result = fields.String(required=True, validate=OneOf(RESULTS), metadata={"title": ("复查结论", "Result"), "labels": RESULTS})
    remarks = text(1000, required=False, load_default="", title=("说明", "Remarks"))


class ReinspectionSchema(BaseSchema):
    """复查: each open hazard passes (销项) or is re-issued with a new deadline."""

    reinspected_on = PastDate(required=True, metadata={"title": ("复查日期", "Re-inspection date")})
    inspectors = _inspectors(("复查人员（不少于 2 人）", "Inspectors (at least two)"))
    results = fields.List(fields.Nested(HazardResultSchema), required=True, validate=Length(1, 20),
                          metadata={"title": ("逐项复查结论", "Result per hazard")})
    new_deadline_days = fields.Integer(load_default=None, allow_none=True, validate=Range(0, 60),
                                       metadata={"title": ("重新整改期限（日）", "New deadline (days)")})
    documents = fields.Nested(SpotCheckDocumentsSchema, load_default=dict, metadata={"title": ("复查材料", "Documents")})

    @validates_schema
    def _deadline_when_failed(self, data, **kwargs):
        if any(r.get("result") == "fail" for r in data.get("results") or []) and data.get("new_deadline_days") is None:
            raise ValidationError({"new_deadline_days": [t("new_deadline_required")]})


class OversightSchema(BaseSchema):
    """督办: the superior authority acts on an overdue rectification and decides the 不良行为 record."""

    action = fields.String(required=True, validate=OneOf(OVERSIGHT_ACTIONS),
                           metadata={"title": ("督办措施", "Action"), "labels": OVERSIGHT_ACTIONS})
    conduct_record = fields.String(required=True, validate=OneOf(CONDUCT_DECISIONS),
                                   metadata={"title": ("不良行为记录", "Bad-conduct record"), "labels": CONDUCT_DECISIONS})
    opinion = text(2000, title=("督办意见", "Opinion"))
