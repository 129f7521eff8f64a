"""Moving running cases from one version of a process to another (admin only).

SpiffWorkflow aligns the two specs (SpecDiff) and the case's tasks with them (WorkflowDiff);
`migrate_workflow` then swaps the specs and re-predicts what follows the current steps. A case can
move only when every step it has passed or waits at still exists in the target version and its
current steps (user tasks, waiting timers) did not change beyond their label. Each case is
migrated under its row lock in its own savepoint and re-checked there, so a case that moved on
since the preview is judged on its state at that moment and is never left half migrated.
"""
from sqlalchemy import select
from sqlalchemy.orm import Session, undefer
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from engine.bpmn import store
from engine.bpmn.assignment import form_key_of
from engine.db import HumanTask, ProcessInstance
from engine.errors import CraneFlowError, InvalidInput
from forms import pick, t
from workflows.catalog import get_entry

from . import audit
from .cases import save_and_project, transition_engine
from .definitions import get_version, parsed_definition, require_admin


CURRENT = TaskState.READY | TaskState.WAITING | TaskState.STARTED
# Spec attributes whose change leaves a current step as it was for the people working on it:
# its label and help text, and its links (the steps after it are re-predicted from the target).
HARMLESS = {"bpmn_name", "documentation", "description", "inputs", "outputs"}
FIELD_NAMES = {
    "lane": ("泳道", "lane"), "extensions": ("表单或扩展属性", "form or extension properties"),
    "event_definition": ("事件定义", "event definition"), "typename": ("环节类型", "type of step"),
    "cond_task_specs": ("条件", "conditions"), "prescript": ("前置脚本", "pre-script"),
    "postscript": ("后置脚本", "post-script"),
}


class Refused(Exception):
    """The case cannot move; the message says why, in the user's language."""


def _label(spec) -> str:
    return getattr(spec, "bpmn_name", None) or getattr(spec, "bpmn_id", None) or spec.name


def _check(workflow, spec_diff) -> WorkflowDiff:
    diff = WorkflowDiff(workflow, spec_diff)
    for task in diff.removed:
        if task.state & CURRENT:
            raise Refused(t("migration_task_removed", task=_label(task.task_spec)))
        if task.state == TaskState.COMPLETED and getattr(task.task_spec, "bpmn_id", None):
            raise Refused(t("migration_history_removed", task=_label(task.task_spec)))
    for task in diff.changed:
        fields = set(spec_diff.changed[task.task_spec]) - HARMLESS
        if task.state & CURRENT and fields:
            shown = "、".join(sorted(pick(FIELD_NAMES.get(f, (f, f))) for f in fields))
            raise Refused(t("migration_task_changed", task=_label(task.task_spec), fields=shown))
    return diff


def _migrate(wf, target) -> None:
    """Move `wf` (and its sub-workflows) onto the target specs in memory, or raise Refused."""
    registry = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)  # converters hold state: one per call
    plan = [(wf, target.spec)]
    for sub in wf.subprocesses.values():
        new_spec = target.subprocess_specs.get(sub.spec.name)
        if new_spec is None:
            raise Refused(t("migration_subprocess", name=sub.spec.name))
        plan.append((sub, new_spec))
    diffs = [(workflow, _check(workflow, SpecDiff(registry, workflow.spec, new_spec)), new_spec)
             for workflow, new_spec in plan]
    for workflow, diff, new_spec in diffs:
        # Only ready steps are reset and re-predicted: a waiting timer keeps the due time it has.
        migrate_workflow(diff, workflow, new_spec, reset_mask=TaskState.READY)
        known = set(new_spec.task_specs.values())
        stray = next((task for task in workflow.tasks.values() if task.task_spec not in known), None)
        if stray is not None:
            raise Refused(t("migration_history_removed", task=_label(stray.task_spec)))
    wf.subprocess_specs = target.subprocess_specs


def _try_migrate(session, instance, actor, source, target):
    """The migrated workflow, proven to restore under the target version; or raise Refused."""
    engine = transition_engine(session, instance, actor)
    try:
        wf = store.restore(instance.state, parsed_definition(source), engine)
        _migrate(wf, parsed_definition(target))
        store.restore(store.dump_state(wf), parsed_definition(target), engine)
    except Refused:
        raise
    except Exception as exc:  # an alignment Spiff cannot make is a refusal, never a server error
        raise Refused(t("migration_failed", detail=f"{type(exc).__name__}: {exc}"[:300])) from None
    return wf


def _current_steps(session, instance) -> list[str]:
    return list(session.scalars(select(HumanTask.title).where(
        HumanTask.instance_id == instance.id, HumanTask.status == "open").order_by(HumanTask.id)))


def _versions(session, actor, process_key, from_version, to_version):
    require_admin(actor)
    if from_version == to_version:
        raise InvalidInput({"to": [t("studio_versions_differ")]})
    return (get_version(session, actor, process_key, from_version),
            get_version(session, actor, process_key, to_version))


def preview(session: Session, actor, *, process_key: str, from_version: int, to_version: int) -> list[dict]:
    """Every running case on the source version: whether it can move, or why not (nothing is saved)."""
    source, target = _versions(session, actor, process_key, from_version, to_version)
    rows = []
    for instance in session.scalars(select(ProcessInstance).where(
            ProcessInstance.definition_id == source.id, ProcessInstance.status == "running")
            .options(undefer(ProcessInstance.state)).order_by(ProcessInstance.id)):
        reason = None
        try:
            _try_migrate(session, instance, actor, source, target)
        except Refused as exc:
            reason = str(exc)
        rows.append({"case_id": instance.id, "business_key": instance.business_key, "title": instance.title,
                     "current_steps": _current_steps(session, instance), "state_version": instance.version,
                     "eligible": reason is None, "reason": reason})
    return rows


def _refresh_open_tasks(session, instance, wf) -> None:
    """Open task rows kept by the projection take the target version's label, form and lane."""
    specs = {str(task.id): task.task_spec for task in wf.get_tasks(state=TaskState.READY, manual=True)}
    for row in session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                       HumanTask.status == "open")):
        spec = specs.get(row.task_guid)
        if spec is not None:
            row.title, row.form_key, row.lane = spec.bpmn_name or spec.bpmn_id, form_key_of(spec), spec.lane


def _migrate_case(session, actor, case_id, source, target, entry) -> None:
    instance = store.lock_instance(session, case_id)
    if instance.process_key != source.process_key or instance.definition_id != source.id:
        raise Refused(t("migration_not_on_version", version=source.version))
    if instance.status != "running":
        raise Refused(t("migration_not_running"))
    wf = _try_migrate(session, instance, actor, source, target)
    instance.definition_id, instance.definition = target.id, target
    save_and_project(session, instance, wf, entry)
    _refresh_open_tasks(session, instance, wf)
    audit.record(session, action="migrate", actor=actor, instance=instance,
                 from_state=f"v{source.version}", to_state=f"v{target.version}",
                 process_key=source.process_key, from_version=source.version, to_version=target.version)


def migrate(session: Session, actor, *, process_key: str, from_version: int, to_version: int,
            case_ids: list[int]) -> list[dict]:
    """Migrate the given cases; each is re-checked under its lock. Returns one result per case."""
    source, target = _versions(session, actor, process_key, from_version, to_version)
    if not case_ids:
        raise InvalidInput({"case_ids": [t("migration_no_cases")]})
    entry = get_entry(process_key)
    results = []
    for case_id in sorted(set(case_ids)):
        reason = None
        try:
            with session.begin_nested():  # a refused or failed case leaves no trace
                _migrate_case(session, actor, case_id, source, target, entry)
        except Refused as exc:
            reason = str(exc)
        except CraneFlowError as exc:
            reason = exc.message
        results.append({"case_id": case_id, "migrated": reason is None, "reason": reason})
    moved = [r["case_id"] for r in results if r["migrated"]]
    audit.record(session, action="migrate_batch", actor=actor, from_state=f"v{source.version}",
                 to_state=f"v{target.version}", process_key=process_key, from_version=source.version,
                 to_version=target.version, case_ids=moved,
                 refused={str(r["case_id"]): r["reason"] for r in results if not r["migrated"]})
    return results
