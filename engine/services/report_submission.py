"""Periodic reports (报表报送): the province defines and publishes a report; each city (and, when
asked, each county) fills it in through a report_submission case, pre-filled from the system's own
figures; the province accepts it or returns it with a reason. The operators of report_submission.bpmn."""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.bpmn import store
from engine.bpmn.runtime import OperatorCall, new_workflow
from engine.db import HumanTask, ProcessInstance, ReportDefinition, ReportSubmission, User, utcnow
from engine.domain.regions import PROVINCE_CODE, children, get_region
from engine.errors import Conflict, InvalidInput, NotFound, NotPermitted
from forms import t
from forms.report_submission import load_values, period_of
from workflows.catalog import get_entry

from . import audit, case_termination, notifications
from .access import region_codes_filter
from .cases import save_and_project, transition_engine
from .definitions import latest_definition, parsed_definition
from .operators import operator
from .report_prefill import prefilled_values
from .settings import CHINA_TZ

PROCESS_KEY = "report_submission"
TASK_FORMS = ("report_fill", "report_review")


def deadline_at(day: date) -> datetime:
    """A deadline day ends at midnight China time: the timer fires at the start of the next day."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=CHINA_TZ)


def require_regulator(user: User) -> User:
    if user.kind != "regulator" or not user.is_active:
        raise NotPermitted(t("report_regulators_only"))
    return user


def require_province(user: User) -> User:
    if require_regulator(user).regulator_level != "province":
        raise NotPermitted(t("report_province_only"))
    return user


# --- definitions --------------------------------------------------------------------------------

def create_definition(session: Session, *, actor: User, data: dict) -> ReportDefinition:
    """A draft definition from validated ReportDefinitionSchema data (published at once when asked)."""
    require_province(actor)
    label, start, end = period_of(data["period_type"], data["year"], data["number"])
    definition = ReportDefinition(
        title=data["title"], period_label=label, period_start=start, period_end=end,
        fields=[dict(f) for f in data["fields_"]], deadline_on=data["deadline_on"],
        include_counties=data["include_counties"], status="draft", created_by_id=actor.id, created_at=utcnow())
    session.add(definition)
    session.flush()
    audit.record(session, action="report_defined", actor=actor, definition=definition.id, title=definition.title,
                 period=label)
    if data.get("publish"):
        publish_definition(session, actor=actor, definition_id=definition.id)
    return definition


def _reporting_regions(include_counties: bool) -> list[str]:
    cities = [r for r in children(PROVINCE_CODE) if r.level == "city"]
    codes = [c.code for c in cities]
    if include_counties:
        codes += [county.code for city in cities for county in children(city.code) if county.level == "county"]
    return codes


def publish_definition(session: Session, *, actor: User, definition_id: int) -> ReportDefinition:
    """Publish a draft: one submission per reporting region, each with its case (one transaction)."""
    definition = _locked_definition(session, actor, definition_id)
    if definition.status != "draft":
        raise Conflict(t("report_not_draft"))
    definition.status, definition.published_at = "published", utcnow()
    entry = get_entry(PROCESS_KEY)
    process = latest_definition(session, PROCESS_KEY)
    regions = _reporting_regions(definition.include_counties)
    for code in regions:
        submission = ReportSubmission(definition_id=definition.id, region_code=code, status="not_started",
                                      values={}, created_at=utcnow())
        session.add(submission)
        session.flush()
        _open_case(session, entry, process, definition, submission, actor)
    audit.record(session, action="report_published", actor=actor, definition=definition.id,
                 title=definition.title, period=definition.period_label, regions=len(regions))
    return definition


def close_definition(session: Session, *, actor: User, definition_id: int) -> ReportDefinition:
    """Close a published report: the regions that have not submitted are recorded as missed and their
    cases ended (their fill tasks leave the inboxes). Refused while a submission awaits review."""
    definition = _locked_definition(session, actor, definition_id)
    if definition.status != "published":
        raise Conflict(t("report_not_published"))
    submissions = list(session.scalars(select(ReportSubmission).where(
        ReportSubmission.definition_id == definition.id).order_by(ReportSubmission.id)))
    awaiting = sum(s.status == "submitted" for s in submissions)
    if awaiting:
        raise Conflict(t("report_close_awaiting_review", n=awaiting))
    missed = [s for s in submissions if s.status in ("not_started", "returned")]
    for submission in missed:
        submission.status = "missed"
        if submission.instance_id:
            instance = store.lock_instance(session, submission.instance_id)
            case_termination.terminate(session, instance, actor=actor, outcome="missed",
                                       reason=t("report_closed_reason", "zh_CN"))
    definition.status = "closed"
    audit.record(session, action="report_closed", actor=actor, definition=definition.id, title=definition.title,
                 period=definition.period_label, missed=len(missed))
    return definition


def _locked_definition(session: Session, actor: User, definition_id: int) -> ReportDefinition:
    require_province(actor)
    stmt = select(ReportDefinition).where(ReportDefinition.id == definition_id)
    if session.get_bind().dialect.name != "sqlite":
        stmt = stmt.with_for_update()
    definition = session.execute(stmt.execution_options(populate_existing=True)).scalar_one_or_none()
    if definition is None:
        raise NotFound(t("report_definition_not_found"))
    return definition


def _open_case(session, entry, process, definition, submission, actor) -> ProcessInstance:
    region = get_region(submission.region_code)
    instance = ProcessInstance(
        definition=process, process_key=PROCESS_KEY, status="running",
        title=f"{definition.period_label}{definition.title}（{region.name}）",
        subject_type="report_submission", subject_id=submission.id, region_code=submission.region_code,
        started_by_id=actor.id, serializer_version=store.SERIALIZER_VERSION, version=0, state={})
    session.add(instance)
    session.flush()
    submission.instance_id = instance.id
    wf = new_workflow(parsed_definition(process), transition_engine(session, instance, actor),
                      {"submission_id": submission.id, "deadline_on": definition.deadline_on.isoformat(),
                       "deadline_at": deadline_at(definition.deadline_on).isoformat()})
    created = save_and_project(session, instance, wf, entry, new_case=True)
    audit.record(session, action="start", actor=actor, instance=instance,
                 to_state=",".join(row.task_name for row in created) or "—", definition_version=process.version)
    return instance


def list_definitions(session: Session, *, user: User) -> list[ReportDefinition]:
    """The province sees its drafts too; cities and counties the published reports."""
    stmt = select(ReportDefinition).order_by(ReportDefinition.id.desc())
    if require_regulator(user).regulator_level != "province":
        stmt = stmt.where(ReportDefinition.status != "draft")
    return list(session.scalars(stmt))


# --- submissions --------------------------------------------------------------------------------

@dataclass(frozen=True)
class SubmissionRow:
    submission: ReportSubmission
    state: str  # not_started / submitted / returned / accepted / overdue
    days_overdue: int
    open_task: HumanTask | None


def display_state(submission: ReportSubmission, today: date) -> tuple[str, int]:
    """The status shown in the lists: unsubmitted past the deadline is overdue (with its days)."""
    if submission.status in ("not_started", "returned") and submission.overdue_since is not None:
        return "overdue", max(0, (today - submission.definition.deadline_on).days)
    return submission.status, 0


def list_submissions(session: Session, *, user: User, definition_id: int | None = None,
                     today: date | None = None) -> list[SubmissionRow]:
    """Submissions in the user's jurisdiction (the province: every region), with each case's open task."""
    stmt = (select(ReportSubmission).where(region_codes_filter(require_regulator(user), ReportSubmission.region_code))
            .order_by(ReportSubmission.definition_id.desc(), ReportSubmission.region_code))
    if definition_id is not None:
        stmt = stmt.where(ReportSubmission.definition_id == definition_id)
    rows = list(session.scalars(stmt))
    instance_ids = [r.instance_id for r in rows if r.instance_id]
    tasks = {}
    if instance_ids:
        for task in session.scalars(select(HumanTask).where(HumanTask.instance_id.in_(instance_ids),
                                                             HumanTask.status == "open")):
            tasks[task.instance_id] = task
    today = today or utcnow().astimezone(CHINA_TZ).date()
    return [SubmissionRow(r, *display_state(r, today), tasks.get(r.instance_id)) for r in rows]


def submission_of_case(session: Session, instance_id: int) -> ReportSubmission:
    return session.scalar(select(ReportSubmission).where(ReportSubmission.instance_id == instance_id))


def fill_form_data(session: Session, instance: ProcessInstance) -> dict:
    """The fill form's values: those last submitted (a returned report), else the system's figures."""
    submission = submission_of_case(session, instance.id)
    if submission is None:
        return {"values": {}}
    if submission.values:
        return {"values": dict(submission.values)}
    definition = submission.definition
    return {"values": prefilled_values(session, definition.fields, region_code=submission.region_code,
                                       start=definition.period_start, end=definition.period_end)}


# --- operators ----------------------------------------------------------------------------------

def _submission(call: OperatorCall) -> ReportSubmission:
    return call.context.session.get(ReportSubmission, call.data["submission_id"])


@operator("report.record_submission")
def record_submission(call: OperatorCall) -> dict:
    """Check the values against the definition's fields and record them as submitted."""
    ctx, data = call.context, call.data
    submission = _submission(call)
    if ctx.actor is None or ctx.actor.region_code != submission.region_code:
        raise NotPermitted(t("report_own_region_only"))
    try:
        values = load_values(submission.definition.fields, data.get("values") or {})
    except ValidationError as exc:
        raise InvalidInput({"values": exc.messages}) from None
    late = ctx.today > submission.definition.deadline_on
    submission.values, submission.status = values, "submitted"
    submission.submitted_at, submission.submitted_by_id = ctx.now, ctx.actor.id
    data["values"] = values
    audit.record(ctx.session, action="report_submitted", instance=ctx.instance, actor=ctx.actor,
                 to_state="submitted", late=late)
    return {"submitted_at": ctx.now.isoformat(), "late": late}


@operator("report.record_review")
def record_review(call: OperatorCall) -> dict:
    ctx, data = call.context, call.data
    submission = _submission(call)
    if data["decision"] == "accept":
        submission.status, submission.accepted_at, submission.return_reason = "accepted", ctx.now, None
        ctx.instance.outcome = "accepted"
    else:
        submission.status, submission.return_reason = "returned", data.get("reason") or ""
    audit.record(ctx.session, action=f"report_{submission.status}", instance=ctx.instance, actor=ctx.actor,
                 to_state=submission.status, reason=submission.return_reason)
    return {"status": submission.status}


@operator("report.flag_overdue")
def flag_overdue(call: OperatorCall) -> dict:
    """The deadline passed with the report not submitted: flag it and tell the reporting office,
    once (a report returned after the deadline re-arms the timer, which then changes nothing)."""
    ctx = call.context
    submission = _submission(call)
    if submission.overdue_since is not None or submission.status not in ("not_started", "returned"):
        return {"flagged": False}
    submission.overdue_since = ctx.now
    ctx.instance.overdue_since = ctx.instance.overdue_since or ctx.now
    definition = submission.definition
    audit.record(ctx.session, action="report_overdue", instance=ctx.instance, task_name="fill_report",
                 to_state="overdue", deadline_on=definition.deadline_on.isoformat())
    _notify_overdue(ctx.session, ctx.instance, submission)
    return {"flagged": True}


def _notify_overdue(session: Session, instance: ProcessInstance, submission: ReportSubmission) -> None:
    region = get_region(submission.region_code)
    definition = submission.definition
    params = {"report": definition.title, "period": definition.period_label, "region": region.name,
              "deadline": definition.deadline_on.isoformat(), "case_title": instance.title,
              "process_key": PROCESS_KEY}
    offices = session.scalars(select(User).where(
        User.kind == "regulator", User.is_active.is_(True), User.region_code == submission.region_code,
        User.regulator_level == region.level))
    for user in offices:
        notifications.notify(session, user, "report_overdue", f"notify:report_overdue:{submission.id}:{user.id}",
                             params, link="/reports/submissions", instance_id=instance.id)
