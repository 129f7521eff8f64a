"""Starting cases and completing their tasks: lock, run, save, project and audit in one transaction."""
from marshmallow import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.bpmn import store
from engine.bpmn.assignment import due_at_from_variable, due_at_from_workdays, form_key_of, project_tasks
from engine.bpmn.runtime import SafeScriptEngine, complete_human_task, new_workflow, ready_human_tasks, waiting_timers
from engine.db import AuditEvent, CaseRecord, HumanTask, ProcessInstance, User, utcnow
from engine.errors import Conflict, CraneFlowError, InvalidInput, NotFound, NotPermitted
from forms import dump_form, load_form, t
from workflows.catalog import get_entry, load_catalog

from . import audit, due_jobs, four_eyes, notifications
from .access import can_act_on, can_see_case, case_filter, holds_role
from .context import TransitionContext
from .definitions import latest_definition, parsed_definition
from .operators import all_operators
from .settings import CHINA_TZ, get_settings
from .statistics import rollup as review_rollup
from .task_claims import check_may_complete


class ProcessError(Conflict):
    """The model itself failed at run time (e.g. a condition over missing data); nothing was saved."""

    code = "process_error"


def transition_engine(session, instance, actor) -> SafeScriptEngine:
    return SafeScriptEngine(operators=all_operators(),
                            context=TransitionContext(session=session, instance=instance, actor=actor))


def _domain_error(exc: BaseException) -> CraneFlowError | None:
    seen = exc
    while seen is not None:
        if isinstance(seen, CraneFlowError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def run_engine(step):
    """Run engine work; domain errors raised inside operators surface unchanged."""
    try:
        return step()
    except CraneFlowError:
        raise
    except Exception as exc:
        found = _domain_error(exc)
        if found is not None:
            raise found from None
        raise ProcessError(f"the case could not advance: {exc}") from exc


def _due_for(entry):
    settings = get_settings()

    def due_for(task_name: str, now, data: dict):
        variable = entry.due_from(task_name)
        if variable:
            return due_at_from_variable(data.get(variable), CHINA_TZ)
        return due_at_from_workdays(settings.calendar, entry.due_workdays(task_name), now, CHINA_TZ)
    return due_for


def validate_form(form_key: str, data) -> dict:
    """Validated, JSON-ready form data (dates as ISO text), or InvalidInput with field messages."""
    try:
        cleaned = load_form(form_key, data)
    except ValidationError as exc:
        raise InvalidInput(exc.messages) from None
    return dump_form(form_key, cleaned)


def record_step(session, instance, task_name: str, rule, enterprise_id, actor, cleaned: dict) -> None:
    """Keep what a step submitted: the case's timeline, and what later steps' outcomes read."""
    party = rule.party or ("applicant" if rule.scope == "applicant_enterprise" else rule.role)
    session.add(CaseRecord(instance_id=instance.id, step=task_name, party=party, enterprise_id=enterprise_id,
                           data=cleaned, recorded_by_id=actor.id, recorded_at=utcnow()))


def save_and_project(session, instance, wf, entry, new_case: bool = False) -> list[HumanTask]:
    if instance.business_key is None:  # set here so the first save writes it in the same UPDATE
        instance.business_key = f"{instance.started_at.astimezone(CHINA_TZ):%Y%m%d}{instance.id:06d}"
    store.save_workflow(instance, wf)
    session.flush()
    due_jobs.sync_case_timers(session, instance, waiting_timers(wf))
    created = project_tasks(session, instance, wf, entry, _due_for(entry), new_case=new_case)
    notifications.tasks_opened(session, instance, created)
    return created


def _new_instance(session, entry, *, applicant_enterprise_id, region_code, started_by_id) -> ProcessInstance:
    definition = latest_definition(session, entry.key)
    instance = ProcessInstance(
        definition=definition, process_key=entry.key, status="running", title=entry.name("zh_CN"),
        applicant_enterprise_id=applicant_enterprise_id, region_code=region_code,
        started_by_id=started_by_id, serializer_version=store.SERIALIZER_VERSION, version=0, state={},
    )
    session.add(instance)
    session.flush()
    return instance


def open_follow_up_case(session: Session, *, process_key: str, applicant_enterprise_id: int, region_code: str,
                        start_data: dict, actor: User | None, cause: ProcessInstance) -> ProcessInstance:
    """Start a case for another party as the consequence of `cause` (e.g. use registration after
    acceptance), in the same transaction."""
    entry = get_entry(process_key)
    instance = _new_instance(session, entry, applicant_enterprise_id=applicant_enterprise_id,
                             region_code=region_code, started_by_id=None)
    wf = new_workflow(parsed_definition(instance.definition), transition_engine(session, instance, actor),
                      start_data)
    created = save_and_project(session, instance, wf, entry, new_case=True)
    audit.record(session, action="start", actor=actor, instance=instance, to_state=_names(created),
                 definition_version=instance.definition.version, cause_case=cause.id)
    return instance


def start_case(session: Session, *, actor: User, process_key: str, data: dict | None = None,
               start: dict | None = None):
    """Start a case; `data`, when given, is the starter's submission of the first task.

    The model receives its catalog `start_fields` (e.g. the crane) from `start`, or else from
    `data`, before it runs."""
    entry = get_entry(process_key)
    if entry is None:
        raise NotFound(t("process_unknown"))
    if not holds_role(actor, entry.starter):
        if actor.kind == "enterprise" and actor.enterprise and actor.enterprise.status != "approved":
            raise NotPermitted(t("enterprise_not_approved"))
        raise NotPermitted("not permitted to start this process")
    enterprise = actor.enterprise
    instance = _new_instance(session, entry, applicant_enterprise_id=enterprise.id if enterprise else None,
                             region_code=enterprise.region_code if enterprise else actor.region_code,
                             started_by_id=actor.id)
    definition = instance.definition
    parsed = parsed_definition(definition)
    given = {**(data if isinstance(data, dict) else {}), **(start or {})}
    start_data = {name: given[name] for name in entry.start_fields if name in given}
    wf = run_engine(lambda: new_workflow(parsed, transition_engine(session, instance, actor), start_data))
    if not data:
        created = save_and_project(session, instance, wf, entry, new_case=True)
        audit.record(session, action="start", actor=actor, instance=instance, to_state=_names(created),
                     definition_version=definition.version)
        return instance
    # Start and first submission in one step: the starter's task is completed before anything is
    # saved, so the case is written and projected once.
    first = next((task for task in ready_human_tasks(wf)
                  if entry.lanes[task.task_spec.lane].role == entry.starter
                  and entry.lanes[task.task_spec.lane].scope in ("applicant_enterprise", "case_region")), None)
    if first is None:
        raise InvalidInput({"data": ["no task of yours to submit this data to"]})
    cleaned = validate_form(form_key_of(first.task_spec), data)
    record_step(session, instance, first.task_spec.bpmn_id, entry.lanes[first.task_spec.lane],
                instance.applicant_enterprise_id, actor, cleaned)
    run_engine(lambda: complete_human_task(wf, str(first.id), cleaned))
    created = save_and_project(session, instance, wf, entry, new_case=True)
    audit.record(session, action="start", actor=actor, instance=instance, to_state=first.task_spec.name,
                 definition_version=definition.version)
    audit.record(session, action="complete", actor=actor, instance=instance, task_name=first.task_spec.name,
                 from_state=first.task_spec.name, to_state=_names(created))
    return instance


def _names(rows) -> str:
    return ",".join(row.task_name for row in rows) or "—"


def complete_task(session: Session, *, actor: User, task_id: int, data) -> ProcessInstance:
    # Locking the task row returns its latest committed state: a concurrent completion that
    # won is seen here as "completed", never run twice.
    task = store.lock_task(session, task_id)
    if task is None:
        raise NotFound("task not found")
    if not can_act_on(actor, task):
        raise NotPermitted("not permitted to complete this task")
    check_may_complete(session, actor, task)
    four_eyes.check(session, session.get(ProcessInstance, task.instance_id), task, actor)
    cleaned = validate_form(task.form_key, data)
    instance = store.lock_instance(session, task.instance_id)
    if task.status != "open":
        raise Conflict("this task has already been completed")
    entry = get_entry(instance.process_key)
    _complete(session, instance, task, actor, cleaned, entry)
    return instance


def _complete(session, instance, task, actor, cleaned, entry):
    engine = transition_engine(session, instance, actor)
    wf = store.load_workflow(instance, parsed_definition(instance.definition), engine)
    record_step(session, instance, task.task_name, entry.lanes[task.lane], task.enterprise_id, actor, cleaned)
    run_engine(lambda: complete_human_task(wf, task.task_guid, cleaned))
    task.status, task.completed_at, task.completed_by_id = "completed", utcnow(), actor.id
    review_rollup.count_review(session, task)
    created = save_and_project(session, instance, wf, entry)
    to_state = "completed" if instance.status == "completed" else _names(created)
    audit.record(session, action="decision" if "decision" in cleaned else "complete", actor=actor,
                 instance=instance, task_name=task.task_name, from_state=task.task_name,
                 to_state=to_state, decision=cleaned.get("decision"), reason=cleaned.get("reason"))


def get_case(session: Session, *, actor: User, case_id: int) -> ProcessInstance:
    instance = session.get(ProcessInstance, case_id)
    if instance is None or not can_see_case(actor, instance, session):
        raise NotFound("case not found")
    return instance


def case_history(session: Session, instance: ProcessInstance) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance.id)
                                .order_by(AuditEvent.id)))


def case_tasks(session: Session, instance: ProcessInstance, status: str | None = None) -> list[HumanTask]:
    if status == "open" and instance.projected_open_tasks is not None:
        return instance.projected_open_tasks  # just projected in this transaction
    stmt = select(HumanTask).where(HumanTask.instance_id == instance.id).order_by(HumanTask.id)
    if status:
        stmt = stmt.where(HumanTask.status == status)
    return list(session.scalars(stmt))


def list_cases(session: Session, *, user: User, status: str | None = None, page: int = 1,
               per_page: int = 20) -> tuple[list[ProcessInstance], int]:
    condition = case_filter(user)
    if status:
        condition = condition & (ProcessInstance.status == status)
    total = session.scalar(select(func.count()).select_from(ProcessInstance).where(condition))
    rows = session.scalars(select(ProcessInstance).where(condition)
                           .order_by(ProcessInstance.id.desc())
                           .limit(per_page).offset((page - 1) * per_page)).all()
    return list(rows), total


def get_task(session: Session, *, actor: User, task_id: int) -> HumanTask:
    """A task the user may act on, or one of a case the user may see."""
    task = session.get(HumanTask, task_id)
    if task is None:
        raise NotFound("task not found")
    if not can_act_on(actor, task):
        instance = session.get(ProcessInstance, task.instance_id)
        if not can_see_case(actor, instance, session):
            raise NotFound("task not found")
    return task


def startable_processes(user: User) -> list:
    return [e for e in load_catalog().values() if holds_role(user, e.starter)]


def step_titles(session: Session, instance: ProcessInstance) -> dict[str, str]:
    """BPMN task id → its name in the model the case runs on, for readable histories."""
    spec = parsed_definition(instance.definition).spec
    return {name: (getattr(t, "bpmn_name", None) or name) for name, t in spec.task_specs.items()}


def case_diagram(session: Session, *, actor: User, case_id: int) -> dict:
    """The BPMN XML of the definition version the case runs on, with the ids of the elements it has
    passed and those it waits at now (for the case diagram)."""
    instance = get_case(session, actor=actor, case_id=case_id)
    completed, active = store.element_states(instance, parsed_definition(instance.definition))
    if instance.status in ("completed", "cancelled"):
        active = []  # a cancelled case's state still holds the tasks that were ready when it stopped
    return {"xml": instance.definition.bpmn_xml, "completed": completed, "active": active}
