"""What a change record says: which audit events are changes to exchange, and the snapshot of the
entity's public data under the field names of the data exchange (docs/data-exchange.md).

Field names follow the pinyin-initial scheme of the national data-sharing standard
(统一社会信用代码 → tyshxydm); `FIELDS` is the dictionary, with each field's Chinese name.
"""
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select

from engine.db import (ConductRecord, Crane, Enterprise, FilingSubmission, Inspection, ProcessInstance,
                       Project)
from engine.domain.cranes import CRANE_TYPES

from .settings import CHINA_TZ

# field → (Chinese name, English meaning). Keys in STANDARD_FIELDS are those whose standard name
# is known; the others are formed the same way.
FIELDS: dict[str, tuple[str, str]] = {
    # the case
    "ywbh": ("业务编号", "business key of the case"),
    "blzt": ("办理状态", "case state: running, approved, returned, rejected, accepted, completed"),
    # enterprise
    "tyshxydm": ("统一社会信用代码", "unified social credit code"),
    "qymc": ("企业名称", "enterprise name"),
    "qyjs": ("企业角色", "declared roles (codes)"),
    "xzqhdm": ("注册地行政区划代码", "registered region (GB/T 2260)"),
    "zcdz": ("注册地址", "registered address"),
    "fddbr": ("法定代表人", "legal representative"),
    "ythqy": ("一体化企业", "integrated rental, installation and maintenance firm"),
    "zzzsbh": ("资质证书编号", "qualification certificate number"),
    "zzlb": ("资质类别", "qualification category"),
    "zzdj": ("资质等级", "qualification grade"),
    "zzyxq": ("资质证书有效期", "qualification valid until"),
    "aqxkzbh": ("安全生产许可证编号", "safety production licence number"),
    "aqxkzyxq": ("安全生产许可证有效期", "safety production licence valid until"),
    "jsfzr": ("技术负责人", "technical lead"),
    "qyzt": ("企业申报状态", "filing state: unfiled, pending, approved, returned, rejected"),
    "hzrq": ("核准日期", "date approved"),
    # crane
    "sbbabh": ("设备备案编号", "crane record number"),
    "sblxdm": ("设备类型代码", "crane type code: T, S, W, M"),
    "sblxmc": ("设备类型名称", "crane type name"),
    "ggxh": ("规格型号", "model"),
    "ccbh": ("出厂编号", "factory serial number"),
    "zzdw": ("制造单位", "manufacturer"),
    "zzxkzbh": ("制造许可证编号", "manufacturing licence number"),
    "ccrq": ("出厂日期", "manufacture date"),
    "sjsynx": ("设计使用年限", "design life (years)"),
    "edqzlj": ("额定起重力矩", "rated moment (kN·m)"),
    "edqzl": ("额定起重量", "rated load (kg)"),
    "zdgd": ("最大高度", "maximum height (m)"),
    "cpqhzbh": ("产品合格证编号", "product certificate number"),
    "zzjdjyzmbh": ("制造监督检验证明编号", "manufacturing supervision certificate number"),
    "cqdwtyshxydm": ("产权单位统一社会信用代码", "owner's credit code"),
    "cqdwmc": ("产权单位名称", "owner's name"),
    "sbzt": ("设备状态", "crane state (lifecycle code)"),
    "bajgqhdm": ("备案机关行政区划代码", "region of the filing authority"),
    "barq": ("备案日期", "date filed"),
    "sydjbh": ("使用登记编号", "use registration number"),
    "djrq": ("使用登记日期", "date registered"),
    # project
    "xmbh": ("工程项目编号", "project code"),
    "xmmc": ("工程名称", "project name"),
    "sgxkzbh": ("施工许可证编号", "construction permit number"),
    "xmdz": ("工程地址", "site address"),
    "xmqhdm": ("工程所在地行政区划代码", "site region"),
    "sydwtyshxydm": ("使用单位统一社会信用代码", "user's (general contractor's) credit code"),
    "sydwmc": ("使用单位名称", "user's name"),
    "jldwtyshxydm": ("监理单位统一社会信用代码", "supervision firm's credit code"),
    "jldwmc": ("监理单位名称", "supervision firm's name"),
    # notices and registration
    "azdwtyshxydm": ("安装单位统一社会信用代码", "installer's credit code (installation, dismantling, jacking)"),
    "azdwmc": ("安装单位名称", "installer's name"),
    "jhzyrq": ("计划作业日期", "planned start"),
    "jhwcrq": ("计划完成日期", "planned finish"),
    "azgd": ("安装高度", "erected height (m)"),
    "zynr": ("作业内容", "jacking works: jacking, anchorage, both"),
    "sbglry": ("专职设备管理人员", "equipment manager"),
    # record cancellation
    "zxyy": ("注销原因", "reason code: scrapped, over_age, below_standard, banned, transfer, leaving"),
    "srdwtyshxydm": ("受让单位统一社会信用代码", "transferee's credit code"),
    "srdwmc": ("受让单位名称", "transferee's name"),
    # inspection and rectification
    "wsbh": ("文书编号", "notice number"),
    "jcrq": ("检查日期", "check date"),
    "jclx": ("检查类型", "check type: routine, special, random, follow_up"),
    "jcry": ("检查人员", "inspectors' names"),
    "jgj59df": ("JGJ 59 评分", "JGJ 59 score"),
    "wslx": ("文书类型", "instrument: none, rectification, stop_work, stop_use"),
    "zgqx": ("整改期限", "rectification deadline"),
    "tysbbabh": ("停用设备备案编号", "record number of the crane under a stop-use order"),
    "jczt": ("检查状态", "notice state: open, closed"),
    "jdjgqhdm": ("监督机构行政区划代码", "region of the inspecting office"),
    "yhqd": ("隐患清单", "hazards (list, fields below)"),
    "xh": ("序号", "hazard number in the notice"),
    "yhms": ("隐患描述", "description"),
    "bw": ("部位", "location"),
    "yhlb": ("隐患类别", "category"),
    "yhdj": ("隐患等级", "grade: general, major"),
    "zdyhx": ("重大隐患判定项", "major-hazard checklist item"),
    "yhzt": ("隐患状态", "hazard state: open, closed"),
    "zgcs": ("整改措施", "measure taken"),
    "zgwcrq": ("整改完成日期", "date rectified"),
    "xxrq": ("销项日期", "date closed"),
    "blxwzt": ("不良行为记录状态", "conduct record: candidate, confirmed, dismissed"),
}
STANDARD_FIELDS = frozenset({"tyshxydm", "sbbabh", "xmbh", "sgxkzbh"})

RECORD_TYPES = ("enterprise_filing", "crane_record", "record_cancellation", "installation_notice",
                "dismantling_notice", "jacking_notice", "use_registration", "inspection", "rectification")

# process → (record type, first submission step, correction step, the authority's review step)
PROCEDURES = {
    "enterprise_filing": ("enterprise_filing", "submit_enterprise_filing", "correct_enterprise_filing",
                          "review_enterprise_filing"),
    "crane_registration": ("crane_record", "submit_filing", "correct_filing", "review_filing"),
    "record_cancellation": ("record_cancellation", "submit_cancellation", "correct_cancellation",
                            "review_cancellation"),
    "installation_notice": ("installation_notice", "submit_notice", "correct_notice", "review_notice"),
    "dismantling_notice": ("dismantling_notice", "submit_dismantling", "correct_dismantling", "review_notice"),
    "jacking_notice": ("jacking_notice", "submit_jacking", "correct_jacking", "review_jacking"),
    "use_registration": ("use_registration", "apply_registration", "correct_registration", "review_registration"),
}
DECISIONS = {"approve": "approved", "return": "returned", "reject": "rejected"}
# Changes the operators record themselves: audit action → (record type, operation).
DOMAIN_ACTIONS = {
    "crane_state": ("crane_record", "updated"),
    "registered": ("crane_record", "updated"),
    "cancelled": ("crane_record", "cancelled"),
    "use_registration_cancelled": ("use_registration", "cancelled"),
    "inspection_recorded": ("inspection", "created"),
    "order_lifted": ("inspection", "order_lifted"),
    "rectification_replied": ("rectification", "replied"),
    "reinspected": ("rectification", "reinspected"),
    "escalated": ("rectification", "escalated"),
    "oversight": ("rectification", "oversight"),
}


@dataclass(frozen=True)
class Change:
    record_type: str
    operation: str


def classify(event) -> Change | None:
    """The change an audit event stands for, or None when it is not exchanged."""
    instance = event.instance
    if event.action in DOMAIN_ACTIONS:
        return Change(*DOMAIN_ACTIONS[event.action]) if instance is not None else None
    if instance is None or event.action not in ("complete", "decision"):
        return None
    procedure = PROCEDURES.get(instance.process_key)
    if procedure is None:
        return None
    record_type, first, correction, review = procedure
    if event.task_name == first:
        return Change(record_type, "submitted")
    if event.task_name == correction:
        return Change(record_type, "resubmitted")
    if event.task_name == review and event.detail.get("decision") in DECISIONS:
        return Change(record_type, DECISIONS[event.detail["decision"]])
    return None


def _day(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(CHINA_TZ).date().isoformat()
    return value.isoformat() if isinstance(value, date) else str(value)


def _number(value):
    return float(value) if isinstance(value, Decimal) else value


def _party(prefix: str, enterprise: Enterprise | None) -> dict:
    return {f"{prefix}tyshxydm": enterprise.uscc if enterprise else None,
            f"{prefix}mc": enterprise.name if enterprise else None}


def enterprise_data(enterprise: Enterprise) -> dict:
    return {
        "tyshxydm": enterprise.uscc, "qymc": enterprise.name, "qyjs": sorted(enterprise.roles),
        "xzqhdm": enterprise.region_code, "zcdz": enterprise.address, "fddbr": enterprise.legal_representative,
        "ythqy": bool(enterprise.integrated), "zzzsbh": enterprise.qualification_no,
        "zzlb": enterprise.qualification_category, "zzdj": enterprise.qualification_grade,
        "zzyxq": _day(enterprise.qualification_valid_until), "aqxkzbh": enterprise.safety_licence_no,
        "aqxkzyxq": _day(enterprise.safety_licence_valid_until), "jsfzr": enterprise.technical_lead,
        "qyzt": enterprise.status, "hzrq": _day(enterprise.approved_at),
    }


def crane_data(session, crane: Crane) -> dict:
    kind = CRANE_TYPES.get(crane.crane_type) or {}
    project = session.get(Project, crane.project_id) if crane.project_id else None
    return {
        "sbbabh": crane.record_number, "sblxdm": kind.get("letter"), "sblxmc": kind.get("zh"),
        "ggxh": crane.model, "ccbh": crane.factory_serial, "zzdw": crane.manufacturer,
        "zzxkzbh": crane.manufacturing_licence_no, "ccrq": _day(crane.manufacture_date),
        "sjsynx": crane.design_life_years, "edqzlj": _number(crane.rated_moment_knm),
        "edqzl": crane.rated_load_kg, "zdgd": _number(crane.max_height_m),
        "cpqhzbh": crane.product_certificate_no, "zzjdjyzmbh": crane.supervision_certificate_no,
        **_party("cqdw", crane.owner), "sbzt": crane.status, "bajgqhdm": crane.filing_region_code,
        "barq": _day(crane.filed_at), "xmbh": project.code if project else None,
        "sydjbh": crane.use_registration_no, "djrq": _day(crane.registered_at),
    }


def _crane_brief(crane: Crane) -> dict:
    kind = CRANE_TYPES.get(crane.crane_type) or {}
    return {"sbbabh": crane.record_number, "sblxdm": kind.get("letter"), "ggxh": crane.model,
            "ccbh": crane.factory_serial, "zzdw": crane.manufacturer, **_party("cqdw", crane.owner),
            "sbzt": crane.status}


def _project_data(session, project: Project | None) -> dict:
    if project is None:
        return {}
    return {"xmbh": project.code, "xmmc": project.name, "sgxkzbh": project.permit_number, "xmdz": project.address,
            "xmqhdm": project.region_code,
            **_party("sydw", session.get(Enterprise, project.user_enterprise_id)),
            **_party("jldw", session.get(Enterprise, project.supervisor_enterprise_id))}


def _case_state(instance: ProcessInstance) -> str:
    return instance.outcome or instance.status


def _submission(session, instance: ProcessInstance) -> dict:
    row = session.get(FilingSubmission, instance.id)
    return dict(row.data) if row is not None else {}


def _case_crane(session, instance: ProcessInstance) -> Crane | None:
    if instance.subject_type != "crane" or not instance.subject_id:
        return None
    return session.get(Crane, instance.subject_id)


def _notice_project(session, instance: ProcessInstance, crane: Crane, submitted: dict) -> Project | None:
    if submitted.get("project_code"):
        return session.scalar(select(Project).where(Project.code == submitted["project_code"]))
    return session.get(Project, crane.project_id) if crane.project_id else None


def notice_data(session, instance: ProcessInstance, crane: Crane) -> dict:
    """Installation, dismantling and jacking notices: crane, project, installer and the works."""
    submitted = _submission(session, instance)
    data = {"ywbh": instance.business_key, "blzt": _case_state(instance), **_crane_brief(crane),
            **_project_data(session, _notice_project(session, instance, crane, submitted)),
            **_party("azdw", session.get(Enterprise, instance.applicant_enterprise_id)),
            "jhzyrq": submitted.get("planned_start"), "azgd": submitted.get("erected_height_m"),
            "jsfzr": submitted.get("technical_lead")}
    if instance.process_key == "installation_notice":
        data["jhwcrq"] = submitted.get("planned_end")
    if instance.process_key == "jacking_notice":
        data["zynr"] = submitted.get("works")
    return data


def registration_data(session, instance: ProcessInstance, crane: Crane) -> dict:
    submitted = _submission(session, instance)
    project = session.get(Project, crane.project_id) if crane.project_id else None
    return {"ywbh": instance.business_key, "blzt": _case_state(instance), **_crane_brief(crane),
            **_project_data(session, project), "sbglry": submitted.get("equipment_manager"),
            "sydjbh": crane.use_registration_no, "djrq": _day(crane.registered_at)}


def cancellation_data(session, instance: ProcessInstance, crane: Crane) -> dict:
    submitted = _submission(session, instance)
    return {"ywbh": instance.business_key, "blzt": _case_state(instance), **_crane_brief(crane),
            "zxyy": submitted.get("reason"), "srdwtyshxydm": submitted.get("transferee_uscc"),
            "srdwmc": submitted.get("transferee_name")}


def inspection_data(session, instance: ProcessInstance, inspection: Inspection) -> dict:
    project = session.get(Project, inspection.project_id)
    stop_crane = session.get(Crane, inspection.stop_use_crane_id) if inspection.stop_use_crane_id else None
    conduct = session.scalar(select(ConductRecord.status).where(ConductRecord.instance_id == instance.id)
                             .order_by(ConductRecord.id.desc()).limit(1))
    return {
        "ywbh": instance.business_key, "wsbh": inspection.notice_number, **_project_data(session, project),
        "jcrq": _day(inspection.check_date), "jclx": inspection.check_type,
        "jcry": [i.get("name") for i in inspection.inspectors or ()], "jgj59df": _number(inspection.jgj59_score),
        "wslx": inspection.instrument, "zgqx": _day(inspection.deadline_on),
        "tysbbabh": stop_crane.record_number if stop_crane else None, "jczt": inspection.status,
        "jdjgqhdm": instance.region_code, "blxwzt": conduct,
        "yhqd": [{"xh": h.seq, "yhms": h.description, "bw": h.location, "yhlb": h.category, "yhdj": h.grade,
                  "zdyhx": h.major_item, "sbbabh": h.crane.record_number if h.crane else None,
                  "zgqx": _day(h.deadline_on), "yhzt": h.status, "zgcs": h.measure,
                  "zgwcrq": _day(h.completed_on), "xxrq": _day(h.closed_at)} for h in inspection.hazards],
    }


@dataclass(frozen=True)
class Snapshot:
    entity_type: str
    entity_id: int
    region_code: str | None
    data: dict


def snapshot(session, record_type: str, instance: ProcessInstance) -> Snapshot | None:
    """The entity a change is about and its public data as it stands now (None when it is gone)."""
    if record_type == "enterprise_filing":
        enterprise = session.get(Enterprise, instance.applicant_enterprise_id)
        return Snapshot("enterprise", enterprise.id, enterprise.region_code, enterprise_data(enterprise))
    if record_type in ("inspection", "rectification"):
        inspection = session.scalar(select(Inspection).where(Inspection.instance_id == instance.id))
        if inspection is None:
            return None
        return Snapshot("inspection", inspection.id, inspection.region_code,
                        inspection_data(session, instance, inspection))
    crane = _case_crane(session, instance)
    if crane is None:
        return None
    if record_type == "crane_record":
        return Snapshot("crane", crane.id, instance.region_code or crane.filing_region_code,
                        crane_data(session, crane))
    build = {"record_cancellation": cancellation_data, "use_registration": registration_data}.get(
        record_type, notice_data)
    return Snapshot("case", instance.id, instance.region_code, build(session, instance, crane))
