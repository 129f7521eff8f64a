"""Use registration (使用登记, domain.md §2.4): opened for the user when acceptance passes, with a
reminder on day 20 and an overdue mark after day 30; the project's authority issues the number."""
from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import Session

from engine.bpmn.runtime import OperatorCall
from engine.db import Crane, ProcessInstance, Project
from engine.domain import lifecycle
from engine.domain.cranes import type_letter
from engine.domain.installation import (operating_crew_categories, registration_due_on,
                                        registration_late, registration_reminder_on)
from engine.domain.regions import plate_letter
from engine.errors import Conflict, CraneFlowError, InvalidInput
from forms import t
from forms.installation import UseRegistrationSchema

from . import audit, certificates
from .archive_gate import check_archive_complete
from .attachments import check_documents_owned, link_to_case
from .context import TransitionContext
from .crane_facts import check_procedure_allowed
from .installation import check_crew
from .operators import operator
from .record_numbers import next_serial
from .settings import CHINA_TZ
from .submissions import another_running_case, keep_submission, mark_overdue

FIELDS = tuple(UseRegistrationSchema().fields)


def _crane_for(ctx: TransitionContext, crane_id) -> tuple[Crane, Project]:
    crane = ctx.session.get(Crane, crane_id) if isinstance(crane_id, int) and not isinstance(crane_id, bool) else None
    if crane is None or crane.project_id is None:
        raise InvalidInput({"crane_id": [t("crane_not_on_your_project")]})
    project = ctx.session.get(Project, crane.project_id)
    if project.user_enterprise_id != ctx.instance.applicant_enterprise_id:
        raise InvalidInput({"crane_id": [t("crane_not_on_your_project")]})
    check_procedure_allowed(lifecycle.USE_REGISTRATION, crane, ctx.today)
    return crane, project


def _china(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=CHINA_TZ)


def registration_timers(accepted_on: date) -> tuple[datetime, datetime]:
    """09:00 on day 20 after acceptance, and the first moment after day 30 (China time). A date
    already past fires as soon as the case starts."""
    return (_china(registration_reminder_on(accepted_on), time(9)),
            _china(registration_due_on(accepted_on) + timedelta(days=1), time(0)))


@operator("use_registration.prepare")
def prepare(call: OperatorCall) -> dict:
    """Bind the case to its crane and set the day-20 reminder and day-30 overdue timers."""
    ctx, data = call.context, call.data
    if "crane_id" not in data:
        raise InvalidInput({"crane_id": [t("required")]})
    crane, project = _crane_for(ctx, data["crane_id"])
    if another_running_case(ctx, "use_registration", ProcessInstance.subject_type == "crane",
                            ProcessInstance.subject_id == crane.id):
        raise Conflict(t("registration_running"))
    ctx.instance.subject_type, ctx.instance.subject_id = "crane", crane.id
    ctx.instance.region_code = project.region_code
    ctx.instance.title = f"使用登记：{crane.record_number}（{project.name}）"
    reminder_at, overdue_at = registration_timers(crane.accepted_on)
    data["reminder_at"], data["overdue_at"] = reminder_at.isoformat(), overdue_at.isoformat()
    return {"crane_id": crane.id}


def open_registration_case(ctx: TransitionContext, crane: Crane) -> ProcessInstance | None:
    """After acceptance: the user finds the registration task in its inbox (unless the crane may not
    be registered, e.g. over age without an assessment — then the refusal is recorded)."""
    from .cases import open_follow_up_case

    project = ctx.session.get(Project, crane.project_id)
    try:
        check_procedure_allowed(lifecycle.USE_REGISTRATION, crane, ctx.today)
    except CraneFlowError as exc:
        audit.record(ctx.session, action="registration_not_opened", instance=ctx.instance, actor=ctx.actor,
                     reason=str(getattr(exc, "errors", exc)))
        return None
    return open_follow_up_case(ctx.session, process_key="use_registration",
                               applicant_enterprise_id=project.user_enterprise_id, region_code=project.region_code,
                               start_data={"crane_id": crane.id}, actor=ctx.actor, cause=ctx.instance)


@operator("use_registration.submit")
def submit(call: OperatorCall) -> dict:
    ctx, data = call.context, call.data
    application = {name: data.pop(name) for name in FIELDS if name in data}
    if application["crane_id"] != ctx.instance.subject_id:
        raise InvalidInput({"crane_id": [t("crane_changed")]})
    crane, _ = _crane_for(ctx, application["crane_id"])
    check_archive_complete(ctx.session, crane, "registration", field="crane_id")
    check_crew(ctx.session, ctx.instance.applicant_enterprise_id, application["operators"],
               operating_crew_categories(crane.crane_type), ctx.today, field="operators")
    documents = application["documents"]
    check_documents_owned(ctx.session, ctx.instance.applicant_enterprise_id, documents)
    link_to_case(ctx.session, ctx.instance.id, documents)
    keep_submission(ctx, "use_registration", application)
    crane.status = lifecycle.next_state(lifecycle.USE_REGISTRATION, lifecycle.SUBMITTED, crane.status)
    if registration_late(crane.accepted_on, ctx.today):
        ctx.instance.overdue_since = ctx.instance.overdue_since or ctx.now
        audit.record(ctx.session, action="registration_late", instance=ctx.instance, actor=ctx.actor,
                     accepted_on=crane.accepted_on.isoformat(), applied_on=ctx.today.isoformat())
    return {"crane_id": crane.id}


def issue_registration_number(session: Session, crane: Crane, project: Project, year: int) -> str:
    """鄂A-TDJ202600001: project city, crane type, 登记, year, serial. Its own counter per city, type
    and year (kept apart from record numbers by a lower-case type key)."""
    city, letter = plate_letter(project.region_code), type_letter(crane.crane_type)
    serial = next_serial(session, city=city, type_letter=letter.lower(), year=year)
    return f"鄂{city}-{letter}DJ{year}{serial:05d}"


@operator("use_registration.approve")
def approve(call: OperatorCall) -> dict:
    ctx = call.context
    crane = ctx.session.get(Crane, ctx.instance.subject_id)
    project = ctx.session.get(Project, crane.project_id)
    number = issue_registration_number(ctx.session, crane, project, ctx.today.year)
    crane.status = lifecycle.next_state(lifecycle.USE_REGISTRATION, lifecycle.APPROVED, crane.status)
    crane.use_registration_no, crane.registered_at = number, ctx.now
    certificates.issue(ctx.session, crane, certificates.USE_REGISTRATION, at=ctx.now, actor=ctx.actor)
    ctx.instance.outcome = "approved"
    audit.record(ctx.session, action="registered", instance=ctx.instance, actor=ctx.actor,
                 to_state=crane.status, registration_number=number)
    return {"registration_number": number}


def _back_to_accepted(call: OperatorCall, outcome: str) -> dict:
    crane = call.context.session.get(Crane, call.context.instance.subject_id)
    crane.status = lifecycle.next_state(lifecycle.USE_REGISTRATION, outcome, crane.status)
    return {"reason": call.data.get("reason", "")}


@operator("use_registration.return_for_correction")
def return_for_correction(call: OperatorCall) -> dict:
    return _back_to_accepted(call, lifecycle.OUTCOME_RETURNED)


@operator("use_registration.reject")
def reject(call: OperatorCall) -> dict:
    call.context.instance.outcome = "rejected"
    return _back_to_accepted(call, lifecycle.OUTCOME_REJECTED)


@operator("use_registration.remind")
def remind(call: OperatorCall) -> dict:
    ctx = call.context
    audit.record(ctx.session, action="registration_reminder", instance=ctx.instance, task_name="apply_registration",
                 due_on=call.data.get("overdue_at"))
    return {"reminded_at": ctx.now.isoformat()}


@operator("use_registration.flag_overdue")
def flag_overdue(call: OperatorCall) -> dict:
    return mark_overdue(call.context, "apply_registration")
