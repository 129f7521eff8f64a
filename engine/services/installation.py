"""Installation notice → parties' review → project authority's acknowledgement → self-inspection →
inspection report → acceptance (domain.md §2.2–§2.3): the operators of installation_notice.bpmn."""
from datetime import date

from sqlalchemy import delete, select

from engine.bpmn.runtime import OperatorCall
from engine.db import CaseParty, CaseRecord, Certificate, Crane, Enterprise, Person, ProcessInstance, Project
from engine.domain import lifecycle
from engine.domain.cranes import requires_expert_review
from engine.domain.installation import (capacity_kn, earliest_start, installation_crew_categories,
                                        notice_too_late)
from engine.domain.personnel import SPECIAL_OPERATION_CATEGORIES
from engine.domain.regions import get_region
from engine.errors import Conflict, InvalidInput
from forms import current_locale, t
from forms.installation import InstallationNoticeSchema

from . import audit
from .archive_gate import check_archive_complete
from .attachments import check_documents_owned, link_to_case
from .context import TransitionContext
from .crane_facts import check_procedure_allowed
from .operators import operator
from .settings import get_settings
from .submissions import another_running_case, keep_submission, submitted_data

NOTICE_FIELDS = tuple(InstallationNoticeSchema().fields)
NOTICE_STEPS = ("submit_notice", "correct_notice")
PARTY_REVIEW_STEPS = ("contractor_review", "supervisor_review")
SIGNOFF_STEPS = ("signoff_user", "signoff_owner", "signoff_installer", "signoff_supervisor")
ROLE_NAMES = {"user": ("使用单位（施工总承包单位）", "user (general contractor)"),
              "supervisor": ("监理单位", "supervision firm"), "inspector": ("检验检测机构", "inspection body")}
# Procedures on the same crane that may not run side by side with an installation notice.
EXCLUSIVE_PROCESSES = ("installation_notice", "dismantling_notice", "jacking_notice", "record_cancellation")


def _zh() -> bool:
    return current_locale.get().startswith("zh")


def _party(session, uscc: str, role: str, field: str) -> Enterprise:
    enterprise = session.scalar(select(Enterprise).where(Enterprise.uscc == uscc))
    if enterprise is None:
        raise InvalidInput({field: [t("party_unknown")]})
    if enterprise.status != "approved":
        raise InvalidInput({field: [t("party_not_approved")]})
    if role not in enterprise.roles:
        raise InvalidInput({field: [t("party_lacks_role", role=ROLE_NAMES[role][0 if _zh() else 1])]})
    return enterprise


def name_party(ctx: TransitionContext, party: str, enterprise_id: int) -> None:
    ctx.session.execute(delete(CaseParty).where(CaseParty.instance_id == ctx.instance.id, CaseParty.party == party))
    ctx.session.add(CaseParty(instance_id=ctx.instance.id, party=party, enterprise_id=enterprise_id))


def check_installer(installer: Enterprise, on: date) -> None:
    if not installer.qualification_no or not installer.qualification_valid_until \
            or installer.qualification_valid_until < on:
        raise InvalidInput({"_schema": [t("installer_qualification")]})
    if not installer.safety_licence_no or not installer.safety_licence_valid_until \
            or installer.safety_licence_valid_until < on:
        raise InvalidInput({"_schema": [t("installer_licence")]})


def check_integrated_installer(crane: Crane, installer: Enterprise) -> None:
    """An integrated (租赁、安装、维保一体化) owner carries the whole lifecycle of its cranes: only it
    or the one installer it registered may install, jack up or dismantle them (domain.md §1)."""
    owner = crane.owner
    if owner.integrated and installer.id != owner.id and installer.uscc != owner.partner_installer_uscc:
        raise InvalidInput({"record_number": [t("integrated_installer")]})


def check_crew(session, enterprise_id: int, crew: list[dict], needed: set[str], on: date,
               field: str = "crew") -> None:
    """Each crew member's certificate is in the enterprise's registry under that name and valid on
    `on`; together they hold every category in `needed` (§7.4)."""
    numbers = [member["certificate_no"] for member in crew]
    found = {cert.number: (cert, name) for cert, name in session.execute(
        select(Certificate, Person.name).join(Person, Person.id == Certificate.person_id)
        .where(Certificate.number.in_(numbers), Person.enterprise_id == enterprise_id))}
    errors, held = {}, set()
    for index, member in enumerate(crew):
        cert, holder = found.get(member["certificate_no"], (None, None))
        if cert is None or holder != member["name"]:
            errors[index] = {"certificate_no": [t("crew_certificate_unknown", number=member["certificate_no"])]}
        elif cert.valid_until < on:
            errors[index] = {"certificate_no": [t("crew_certificate_expired", number=cert.number)]}
        else:
            held.add(cert.category)
    if errors:
        raise InvalidInput({field: errors})
    missing = sorted(needed - held)
    if missing:
        names = "、".join(SPECIAL_OPERATION_CATEGORIES[c][0 if _zh() else 1] for c in missing)
        raise InvalidInput({field: [t("crew_missing_categories", categories=names)]})


def check_lead_time(ctx: TransitionContext, planned_start: date, field: str = "planned_start") -> None:
    settings = get_settings()
    today = ctx.today
    if notice_too_late(settings.calendar, today, planned_start, settings.notice_lead_workdays):
        earliest = earliest_start(settings.calendar, today, settings.notice_lead_workdays)
        raise InvalidInput({field: [t("notice_too_late", days=settings.notice_lead_workdays,
                                      earliest=f"{earliest:%Y年%m月%d日}" if _zh() else earliest.isoformat())]})


def _project(ctx: TransitionContext, notice: dict, user: Enterprise, supervisor: Enterprise) -> Project:
    project = ctx.session.scalar(select(Project).where(Project.code == notice["project_code"]))
    if project is None:
        project = Project(code=notice["project_code"])
        ctx.session.add(project)
    elif project.region_code != notice["site_region_code"]:
        if project.status != "returned":
            raise InvalidInput({"project_code": [t("project_elsewhere", code=project.code)]})
        # An authority returned the project as not in its region: this notice names the right one.
        audit.record(ctx.session, action="project_status", actor=ctx.actor, from_state=project.status,
                     to_state="under_construction", project_id=project.id, project_code=project.code,
                     from_region=project.region_code, to_region=notice["site_region_code"],
                     # Kept in Chinese, as the record reads for every later viewer.
                     reason=t("project_region_corrected", "zh_CN", case=ctx.instance.business_key or "",
                              region=f"{get_region(notice['site_region_code']).name}（{notice['site_region_code']}）"))
        project.status = "under_construction"
    project.name, project.permit_number = notice["project_name"], notice["permit_number"]
    project.address, project.region_code = notice["site_address"], notice["site_region_code"]
    project.user_enterprise_id, project.supervisor_enterprise_id = user.id, supervisor.id
    ctx.session.flush()
    return project


def crane_on_hand(ctx: TransitionContext, record_number: str) -> Crane:
    crane = ctx.session.scalar(select(Crane).where(Crane.record_number == record_number))
    if crane is None:
        raise InvalidInput({"record_number": [t("crane_not_visible")]})
    return crane


def refuse_parallel_cases(ctx: TransitionContext, crane: Crane) -> None:
    for key in EXCLUSIVE_PROCESSES:
        if another_running_case(ctx, key, ProcessInstance.subject_type == "crane",
                                ProcessInstance.subject_id == crane.id):
            raise Conflict(t("notice_running"))


def check_works_package(ctx: TransitionContext, installer: Enterprise, crane: Crane, notice: dict,
                        planned_start: date) -> None:
    """What installation and dismantling notices share: the installer's papers, the lead time, the
    超危大 expert review and the crew's certificates."""
    check_installer(installer, planned_start)
    check_integrated_installer(crane, installer)
    check_lead_time(ctx, planned_start)
    if requires_expert_review(capacity_kn(crane.rated_load_kg), notice["erected_height_m"]) and (
            not notice["documents"].get("expert_review_record")
            or notice.get("expert_review_conclusion") not in ("pass", "pass_after_change")):
        raise InvalidInput({"expert_review_conclusion": [t("expert_review_required")]})
    check_crew(ctx.session, installer.id, notice["crew"], installation_crew_categories(crane.crane_type),
               planned_start)


def lodge_works_on_site(ctx: TransitionContext, data: dict, fields: tuple[str, ...], procedure: str,
                        form_key: str) -> tuple[Crane, Project, dict]:
    """What dismantling and jacking notices share: the works package checked and kept for the crane
    on its project, whose parties join the case and whose authority receives it."""
    notice = {name: data.pop(name) for name in fields if name in data}
    planned_start = date.fromisoformat(notice["planned_start"])
    crane = crane_on_hand(ctx, notice["record_number"])
    if ctx.instance.subject_id not in (None, crane.id):
        raise InvalidInput({"record_number": [t("crane_changed")]})
    check_procedure_allowed(procedure, crane, planned_start, field="record_number")
    refuse_parallel_cases(ctx, crane)
    installer = ctx.session.get(Enterprise, ctx.instance.applicant_enterprise_id)
    check_works_package(ctx, installer, crane, notice, planned_start)
    check_documents_owned(ctx.session, installer.id, notice["documents"])
    link_to_case(ctx.session, ctx.instance.id, notice["documents"])
    keep_submission(ctx, form_key, notice)
    project = ctx.session.get(Project, crane.project_id)
    name_party(ctx, "owner", crane.owner_enterprise_id)
    name_party(ctx, "user", project.user_enterprise_id)
    name_party(ctx, "supervisor", project.supervisor_enterprise_id)
    ctx.instance.region_code = project.region_code
    ctx.instance.subject_type, ctx.instance.subject_id = "crane", crane.id
    data["crane_id"] = crane.id
    return crane, project, notice


@operator("installation_notice.submit")
def submit(call: OperatorCall) -> dict:
    ctx, data = call.context, call.data
    notice = {name: data.pop(name) for name in NOTICE_FIELDS if name in data}
    planned_start = date.fromisoformat(notice["planned_start"])
    crane = crane_on_hand(ctx, notice["record_number"])
    installer = ctx.session.get(Enterprise, ctx.instance.applicant_enterprise_id)
    check_procedure_allowed(lifecycle.INSTALLATION_NOTICE, crane, planned_start, field="record_number")
    check_archive_complete(ctx.session, crane, "installation")
    refuse_parallel_cases(ctx, crane)
    check_works_package(ctx, installer, crane, notice, planned_start)
    user = _party(ctx.session, notice["user_uscc"], "user", "user_uscc")
    supervisor = _party(ctx.session, notice["supervisor_uscc"], "supervisor", "supervisor_uscc")
    project = _project(ctx, notice, user, supervisor)
    check_documents_owned(ctx.session, installer.id, notice["documents"])
    link_to_case(ctx.session, ctx.instance.id, notice["documents"])
    keep_submission(ctx, "installation_notice", notice)
    name_party(ctx, "owner", crane.owner_enterprise_id)
    name_party(ctx, "user", user.id)
    name_party(ctx, "supervisor", supervisor.id)
    # Notified at the project's authority (Order 166 Art 3, 76号 Art 13), not the installer's.
    ctx.instance.region_code = project.region_code
    ctx.instance.subject_type, ctx.instance.subject_id = "crane", crane.id
    ctx.instance.title = f"安装告知：{crane.record_number}（{project.name}）"
    data["crane_id"] = crane.id
    return {"crane_id": crane.id, "project_id": project.id}


def latest_round(session, instance_id: int, steps: tuple[str, ...], after_steps: tuple[str, ...]) -> list[CaseRecord]:
    """Records of `steps` made since the last record of any of `after_steps`."""
    since = session.scalar(select(CaseRecord.id).where(
        CaseRecord.instance_id == instance_id, CaseRecord.step.in_(after_steps))
        .order_by(CaseRecord.id.desc()).limit(1)) or 0
    return list(session.scalars(select(CaseRecord).where(
        CaseRecord.instance_id == instance_id, CaseRecord.step.in_(steps), CaseRecord.id > since)
        .order_by(CaseRecord.id)))


@operator("installation_notice.parties_reviewed")
def parties_reviewed(call: OperatorCall) -> dict:
    return parties_outcome(call, NOTICE_STEPS)


def parties_outcome(call: OperatorCall, submission_steps: tuple[str, ...]) -> dict:
    """Both the GC and the supervision firm must pass the package (76号 Art 11)."""
    ctx = call.context
    reviews = latest_round(ctx.session, ctx.instance.id, PARTY_REVIEW_STEPS, submission_steps)
    passed = len({r.step for r in reviews}) == len(PARTY_REVIEW_STEPS) and all(
        r.data.get("decision") == "pass" for r in reviews)
    call.data["parties_passed"] = passed
    reasons = [r.data.get("reason") for r in reviews if r.data.get("decision") != "pass"]
    if not passed:
        audit.record(ctx.session, action="returned_by_parties", instance=ctx.instance, actor=ctx.actor,
                     reason="；".join(filter(None, reasons)))
    return {"passed": passed}


def crane_of_case(ctx: TransitionContext) -> Crane:
    return ctx.session.get(Crane, ctx.instance.subject_id)


def advance(ctx: TransitionContext, procedure: str, outcome: str, crane: Crane | None = None) -> Crane:
    crane = crane or crane_of_case(ctx)
    before = crane.status
    crane.status = lifecycle.next_state(procedure, outcome, crane.status)
    audit.record(ctx.session, action="crane_state", instance=ctx.instance, actor=ctx.actor,
                 from_state=before, to_state=crane.status, procedure=procedure, outcome=outcome)
    return crane


@operator("installation_notice.acknowledge")
def acknowledge(call: OperatorCall) -> dict:
    ctx = call.context
    crane = advance(ctx, lifecycle.INSTALLATION_NOTICE, lifecycle.APPROVED)
    # The stored notice is the case's record of what was lodged.
    code = submitted_data(ctx.session, ctx.instance.id)["project_code"]
    crane.project_id = ctx.session.scalar(select(Project.id).where(Project.code == code))
    return {"status": crane.status}


@operator("installation_notice.return_for_correction")
def return_for_correction(call: OperatorCall) -> dict:
    return {"reason": call.data.get("reason", "")}


@operator("installation_notice.record_self_inspection")
def record_self_inspection(call: OperatorCall) -> dict:
    ctx = call.context
    inspector = _party(ctx.session, call.data["inspector_uscc"], "inspector", "inspector_uscc")
    _link_step_documents(ctx, call.data, ctx.instance.applicant_enterprise_id)
    name_party(ctx, "inspector", inspector.id)
    crane = advance(ctx, lifecycle.SELF_INSPECTION, lifecycle.APPROVED)
    return {"status": crane.status}


def _link_step_documents(ctx: TransitionContext, data: dict, enterprise_id: int | None) -> None:
    documents = data.get("documents") or {}
    check_documents_owned(ctx.session, enterprise_id, documents)
    link_to_case(ctx.session, ctx.instance.id, documents)


@operator("installation_notice.record_inspection")
def record_inspection(call: OperatorCall) -> dict:
    ctx = call.context
    inspector = ctx.session.get(CaseParty, (ctx.instance.id, "inspector"))
    _link_step_documents(ctx, call.data, inspector.enterprise_id)
    qualified = call.data["conclusion"] == "qualified"
    if qualified:
        crane = advance(ctx, lifecycle.INSPECTION_REPORT, lifecycle.APPROVED)
    else:
        crane = crane_of_case(ctx)
        audit.record(ctx.session, action="inspection_failed", instance=ctx.instance, actor=ctx.actor,
                     reason=call.data.get("findings"), report_number=call.data.get("report_number"))
    call.data["inspection_passed"] = qualified
    return {"status": crane.status}


def signoff_round(call: OperatorCall, steps: tuple[str, ...], after_steps: tuple[str, ...]):
    """(passed, signatures): passed when every step signed 验收合格 since the last of `after_steps`;
    a failure is recorded with the parties' reasons."""
    ctx = call.context
    signoffs = latest_round(ctx.session, ctx.instance.id, steps, after_steps)
    passed = len({s.step for s in signoffs}) == len(steps) and all(s.data.get("conclusion") == "pass" for s in signoffs)
    call.data["acceptance_passed"] = passed
    if not passed:
        audit.record(ctx.session, action="acceptance_failed", instance=ctx.instance, actor=ctx.actor,
                     reason="；".join(s.data.get("reason") for s in signoffs if s.data.get("conclusion") != "pass"))
    return passed, signoffs


@operator("installation_notice.acceptance_result")
def acceptance_result(call: OperatorCall) -> dict:
    """Accepted only when all four parties signed 验收合格 in this round."""
    ctx = call.context
    passed, signoffs = signoff_round(call, SIGNOFF_STEPS, ("inspection_report", "rectify_acceptance"))
    if passed:
        crane = advance(ctx, lifecycle.ACCEPTANCE, lifecycle.APPROVED)
        crane.accepted_on = max(date.fromisoformat(s.data["accepted_on"]) for s in signoffs)
        ctx.instance.outcome = "accepted"
        from .use_registration import open_registration_case  # it builds on this module's checks
        open_registration_case(ctx, crane)
    return {"passed": passed}


@operator("installation_notice.record_rectification")
def record_rectification(call: OperatorCall) -> dict:
    ctx = call.context
    _link_step_documents(ctx, call.data, ctx.instance.applicant_enterprise_id)
    return {}
