"""Installation notice (安装告知), the parties' reviews, and the inspection and acceptance records
(domain.md §2.2–§2.3)."""
import re

from marshmallow import ValidationError, fields, validates_schema

from engine.domain.installation import verticality_limit

from .base import BaseSchema, Length, OneOf, Range, text
from .fields import AttachmentIds, HubeiRegion, PastDate, StrictFloat, Uscc
from .messages import t

PROJECT_CODE = re.compile(r"^[0-9A-Za-z\-]{6,32}$")
EXPERT_CONCLUSIONS = {"pass": ("通过", "Passed"), "pass_after_change": ("修改后通过", "Passed after changes"),
                      "fail": ("不通过", "Failed")}


def _required_documents(data, names) -> None:
    errors = {name: [t("required")] for name in names if name in data and not data[name]}
    if errors:
        raise ValidationError(errors)


class NoticeDocumentsSchema(BaseSchema):
    installation_scheme = AttachmentIds(required=True, metadata={"title": ("专项施工方案（技术负责人签字、总监审核）", "Installation scheme")})
    emergency_plan = AttachmentIds(required=True, metadata={"title": ("生产安全事故应急救援预案", "Emergency plan")})
    install_contract = AttachmentIds(required=True, metadata={"title": ("安装合同", "Installation contract")})
    safety_agreement = AttachmentIds(required=True, metadata={"title": ("安全协议书", "Safety agreement")})
    expert_review_record = AttachmentIds(load_default=list, metadata={"title": ("专家论证报告（超危大工程）", "Expert review record (over-threshold works)")})
    other = AttachmentIds(load_default=list, metadata={"title": ("其他材料", "Other documents")})

    @validates_schema
    def _required_not_empty(self, data, **kwargs):
        _required_documents(data, ("installation_scheme", "emergency_plan", "install_contract", "safety_agreement"))


class CrewMemberSchema(BaseSchema):
    name = text(64, title=("姓名", "Name"))
    certificate_no = text(40, title=("特种作业操作资格证书编号", "Certificate number"))


class WorksNoticeSchema(BaseSchema):
    """What installation and dismantling notices share: the crane (by the record number painted on
    it), the schedule, the staff and the crew."""

    record_number = text(32, title=("设备备案编号", "Crane record number"))
    planned_start = fields.Date(required=True, metadata={"title": ("计划作业日期", "Planned start")})
    erected_height_m = StrictFloat(required=True, validate=Range(1, 1000),
                                   metadata={"title": ("安装高度（米）", "Erected height (m)")})
    technical_lead = text(64, title=("安装单位技术负责人", "Installer's technical lead"))
    safety_officer = text(64, title=("现场专职安全生产管理人员", "Site safety officer"))
    crew = fields.List(fields.Nested(CrewMemberSchema), required=True, validate=Length(1, 30),
                       metadata={"title": ("作业人员", "Crew")})
    expert_review_conclusion = fields.String(load_default=None, allow_none=True, validate=OneOf(EXPERT_CONCLUSIONS),
                                             metadata={"title": ("专家论证结论", "Expert review conclusion"),
                                                       "labels": EXPERT_CONCLUSIONS})


class InstallationNoticeSchema(WorksNoticeSchema):
    project_code = text(32, title=("项目编号", "Project code"))
    project_name = text(200, title=("工程名称", "Project name"))
    permit_number = text(64, title=("施工许可证编号", "Construction permit number"))
    site_address = text(300, title=("工程地址", "Site address"))
    site_region_code = HubeiRegion(required=True, metadata={"title": ("工程所在地（区划代码）", "Site region code")})
    user_uscc = Uscc(required=True, metadata={"title": ("使用单位（施工总承包单位）统一社会信用代码", "User (general contractor) credit code")})
    supervisor_uscc = Uscc(required=True, metadata={"title": ("监理单位统一社会信用代码", "Supervision firm credit code")})
    planned_end = fields.Date(load_default=None, allow_none=True, metadata={"title": ("计划完成日期", "Planned finish")})
    documents = fields.Nested(NoticeDocumentsSchema, required=True, metadata={"title": ("告知材料", "Documents")})

    @validates_schema
    def _checks(self, data, **kwargs):
        errors = {}
        if data.get("project_code") and not PROJECT_CODE.match(data["project_code"]):
            errors["project_code"] = [t("project_code_format")]
        start, end = data.get("planned_start"), data.get("planned_end")
        if start and end and end < start:
            errors["planned_end"] = [t("end_before_start")]
        if data.get("user_uscc") and data.get("user_uscc") == data.get("supervisor_uscc"):
            errors["supervisor_uscc"] = [t("supervisor_is_user")]
        if errors:
            raise ValidationError(errors)


REVIEW_LABELS = {"pass": ("审核通过", "Passed"), "return": ("退回补正", "Return for correction")}


class PartyReviewSchema(BaseSchema):
    """The general contractor's or the supervision firm's review of the package (76号 Art 11)."""

    decision = fields.String(required=True, validate=OneOf(REVIEW_LABELS),
                             metadata={"title": ("审核意见", "Decision"), "labels": REVIEW_LABELS})
    reason = text(2000, required=False, load_default="", title=("意见 / 补正要求", "Opinion / corrections"))

    @validates_schema
    def _reason_when_returned(self, data, **kwargs):
        if data.get("decision") == "return" and not data.get("reason"):
            raise ValidationError({"reason": [t("reason_required")]})


ACK_LABELS = {"approve": ("已告知（同意安装）", "Acknowledged"), "return": ("退回补正", "Return for correction")}


class NoticeAcknowledgementSchema(PartyReviewSchema):
    """The project authority's acknowledgement: 已告知 or 退回补正; notices are not refused (§2.2)."""

    decision = fields.String(required=True, validate=OneOf(ACK_LABELS),
                             metadata={"title": ("告知结论", "Decision"), "labels": ACK_LABELS})


class SelfInspectionDocumentsSchema(BaseSchema):
    self_inspection_record = AttachmentIds(required=True, metadata={"title": ("自检记录及自检合格证明", "Self-inspection record and certificate")})
    debugging_record = AttachmentIds(load_default=list, metadata={"title": ("调试、试运转记录", "Commissioning and test-run record")})

    @validates_schema
    def _required_not_empty(self, data, **kwargs):
        _required_documents(data, ("self_inspection_record",))


class SelfInspectionSchema(BaseSchema):
    inspected_on = PastDate(required=True, metadata={"title": ("自检日期", "Self-inspection date")})
    inspector_uscc = Uscc(required=True, metadata={"title": ("委托的检验检测机构统一社会信用代码", "Inspection body's credit code")})
    remarks = text(1000, required=False, load_default="", title=("说明", "Remarks"))
    documents = fields.Nested(SelfInspectionDocumentsSchema, required=True, metadata={"title": ("自检材料", "Documents")})


INSPECTION_CONCLUSIONS = {"qualified": ("合格", "Pass"), "unqualified": ("不合格", "Fail")}


class ReportDocumentsSchema(BaseSchema):
    report = AttachmentIds(required=True, metadata={"title": ("检验检测报告", "Inspection report")})

    @validates_schema
    def _required_not_empty(self, data, **kwargs):
        _required_documents(data, ("report",))


class InspectionReportSchema(BaseSchema):
    report_number = text(64, title=("报告编号", "Report number"))
    inspected_on = PastDate(required=True, metadata={"title": ("检验日期", "Inspection date")})
    conclusion = fields.String(required=True, validate=OneOf(INSPECTION_CONCLUSIONS),
                               metadata={"title": ("检验结论", "Conclusion"), "labels": INSPECTION_CONCLUSIONS})
    findings = text(2000, required=False, load_default="", title=("不合格项 / 说明", "Findings"))
    documents = fields.Nested(ReportDocumentsSchema, required=True, metadata={"title": ("检验材料", "Documents")})

    @validates_schema
    def _findings_when_failed(self, data, **kwargs):
        if data.get("conclusion") == "unqualified" and not data.get("findings"):
            raise ValidationError({"findings": [t("findings_required")]})


SIGNOFF_LABELS = {"pass": ("验收合格", "Accepted"), "fail": ("验收不合格", "Not accepted")}
ANCHOR_POSITIONS = {"free": ("独立高度或最高附着点以上", "Free-standing or above the top anchorage"),
                    "below": ("最高附着点以下", "Below the top anchorage")}


CHECKLIST = ("safety_devices_ok", "structure_ok", "foundation_ok", "clearance_ok")


class AcceptanceSignoffSchema(BaseSchema):
    """One party's acceptance signature with the checklist (§2.3); any failure repeats acceptance."""

    conclusion = fields.String(required=True, validate=OneOf(SIGNOFF_LABELS),
                               metadata={"title": ("验收意见", "Conclusion"), "labels": SIGNOFF_LABELS})
    accepted_on = PastDate(required=True, metadata={"title": ("验收日期", "Acceptance date")})
    verticality_permille = StrictFloat(required=True, validate=Range(0, 50),
                                       metadata={"title": ("塔身垂直度偏差（‰）", "Verticality deviation (‰)")})
    measured_at = fields.String(required=True, validate=OneOf(ANCHOR_POSITIONS),
                                metadata={"title": ("测量位置", "Measured at"), "labels": ANCHOR_POSITIONS})
    safety_devices_ok = fields.Boolean(load_default=False, metadata={"title": ("安全装置齐全有效", "Safety devices complete and working")})
    structure_ok = fields.Boolean(load_default=False, metadata={"title": ("结构件、连接螺栓及销轴完好", "Structure, bolts and pins sound")})
    foundation_ok = fields.Boolean(load_default=False, metadata={"title": ("基础符合设计要求", "Foundation as designed")})
    clearance_ok = fields.Boolean(load_default=False, metadata={"title": ("群塔作业垂直距离不小于 2 米", "At least 2 m vertical clearance to other cranes")})
    reason = text(2000, required=False, load_default="", title=("不合格项 / 说明", "Defects / remarks"))

    @validates_schema
    def _consistent(self, data, **kwargs):
        if data.get("conclusion") == "fail" and not data.get("reason"):
            raise ValidationError({"reason": [t("reason_required")]})
        if data.get("conclusion") != "pass":
            return
        errors = {name: [t("checklist_item_failed")] for name in CHECKLIST if not data.get(name)}
        limit = verticality_limit(anchored_below=data.get("measured_at") == "below")
        if data.get("verticality_permille", 0) > limit:
            errors["verticality_permille"] = [t("verticality_exceeded", limit=limit)]
        if errors:
            raise ValidationError(errors)


class EvidenceSchema(BaseSchema):
    evidence = AttachmentIds(load_default=list, metadata={"title": ("整改照片及证明", "Evidence")})


class RectificationSchema(BaseSchema):
    """The installer's account of what was put right before inspection or acceptance is repeated."""

    measures = text(2000, title=("整改措施及结果", "Measures taken"))
    documents = fields.Nested(EvidenceSchema, load_default=dict, metadata={"title": ("整改材料", "Documents")})


class RegistrationDocumentsSchema(BaseSchema):
    lease_contract = AttachmentIds(required=True, metadata={"title": ("租赁合同", "Lease contract")})
    management_rules = AttachmentIds(required=True, metadata={"title": ("安全管理制度及维护保养制度", "Safety and maintenance rules")})
    emergency_plan = AttachmentIds(required=True, metadata={"title": ("生产安全事故应急救援预案", "Emergency plan")})
    other = AttachmentIds(load_default=list, metadata={"title": ("其他材料", "Other documents")})

    @validates_schema
    def _required_not_empty(self, data, **kwargs):
        _required_documents(data, ("lease_contract", "management_rules", "emergency_plan"))


class UseRegistrationSchema(BaseSchema):
    """Use registration (使用登记, 76号 Art 15); the inspection and acceptance papers are on the case."""

    crane_id = fields.Integer(required=True, strict=True, metadata={"title": ("设备（内部编号）", "Crane id")})
    equipment_manager = text(64, title=("专职设备管理人员", "Equipment manager"))
    operators = fields.List(fields.Nested(CrewMemberSchema), required=True, validate=Length(1, 30),
                            metadata={"title": ("司机及信号司索工", "Operators and signallers")})
    documents = fields.Nested(RegistrationDocumentsSchema, required=True, metadata={"title": ("登记材料", "Documents")})


class DismantlingDocumentsSchema(BaseSchema):
    dismantling_scheme = AttachmentIds(required=True, metadata={"title": ("拆卸专项施工方案", "Dismantling scheme")})
    emergency_plan = AttachmentIds(required=True, metadata={"title": ("生产安全事故应急救援预案", "Emergency plan")})
    safety_agreement = AttachmentIds(required=True, metadata={"title": ("安全协议书", "Safety agreement")})
    expert_review_record = AttachmentIds(load_default=list, metadata={"title": ("专家论证报告（超危大工程）", "Expert review record (over-threshold works)")})
    other = AttachmentIds(load_default=list, metadata={"title": ("其他材料", "Other documents")})

    @validates_schema
    def _required_not_empty(self, data, **kwargs):
        _required_documents(data, ("dismantling_scheme", "emergency_plan", "safety_agreement"))


class DismantlingNoticeSchema(WorksNoticeSchema):
    """Dismantling notice (拆卸告知, §2.6): same package and lead time as installation; the project
    and its parties are those the crane stands on."""

    documents = fields.Nested(DismantlingDocumentsSchema, required=True, metadata={"title": ("告知材料", "Documents")})


JACKING_WORKS = {"jacking": ("顶升加节", "Jacking (adding sections)"), "anchorage": ("增设附着", "Adding an anchorage"),
                 "both": ("顶升加节并增设附着", "Jacking and anchorage")}


class JackingDocumentsSchema(BaseSchema):
    jacking_scheme = AttachmentIds(required=True, metadata={"title": ("顶升/附着专项施工方案", "Jacking / anchorage scheme")})
    technical_briefing = AttachmentIds(required=True, metadata={"title": ("安全技术交底记录", "Safety briefing record")})
    anchorage_design = AttachmentIds(load_default=list, metadata={"title": ("附着装置设计计算书（非原厂附着）", "Anchorage design calculation")})
    expert_review_record = AttachmentIds(load_default=list, metadata={"title": ("专家论证报告（超危大工程）", "Expert review record (over-threshold works)")})

    @validates_schema
    def _required_not_empty(self, data, **kwargs):
        _required_documents(data, ("jacking_scheme", "technical_briefing"))


class JackingNoticeSchema(WorksNoticeSchema):
    """顶升/附着 on a crane in use (Order 166 Art 20): a notice and an acceptance like installation;
    `erected_height_m` is the height after the works."""

    works = fields.String(required=True, validate=OneOf(JACKING_WORKS),
                          metadata={"title": ("作业内容", "Works"), "labels": JACKING_WORKS})
    added_sections = fields.Integer(load_default=None, allow_none=True, validate=Range(1, 60),
                                    metadata={"title": ("加节数量", "Sections added")})
    documents = fields.Nested(JackingDocumentsSchema, required=True, metadata={"title": ("告知材料", "Documents")})

    @validates_schema
    def _sections_when_jacking(self, data, **kwargs):
        if data.get("works") in ("jacking", "both") and not data.get("added_sections"):
            raise ValidationError({"added_sections": [t("required")]})
