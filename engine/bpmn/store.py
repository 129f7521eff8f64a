"""The only code that reads or writes serialized workflow state.

State is stored without its spec: the spec belongs to the immutable process definition and is
parsed once per version (see parser.spec_cache). Every transition locks the instance row first.
"""
import threading
from contextvars import ContextVar
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session, undefer
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from engine.db import EncodedJSON, HumanTask, ProcessInstance, utcnow
from engine.errors import NotFound

from .parser import ParsedDefinition
from .runtime import SafeScriptEngine, next_due

_current_spec: ContextVar[ParsedDefinition] = ContextVar("craneflow_current_spec")


class SpecRefWorkflowConverter(BpmnWorkflowConverter):
    """Writes state only; on restore takes the already-parsed spec of the definition version."""

    def to_dict(self, workflow):
        dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct):
        parsed = _current_spec.get()
        workflow = self.target_class(parsed.spec, parsed.subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


_config = dict(SPIFF_CONFIG)
_config[BpmnWorkflow] = SpecRefWorkflowConverter
_local = threading.local()


def _serializer() -> BpmnWorkflowSerializer:
    # The registry toggles an encoder flag while converting, so each thread gets its own.
    ser = getattr(_local, "serializer", None)
    if ser is None:
        ser = _local.serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_config))
    return ser


SERIALIZER_VERSION = BpmnWorkflowSerializer().VERSION


def dump_state(wf: BpmnWorkflow) -> dict:
    return EncodedJSON(_serializer().serialize_json(wf))


def _parents_first(workflow_dct: dict) -> dict:
    """A copy of a (sub)workflow's state whose tasks are listed in tree order, parents first.

    Spiff restores each task's data as a delta on its parent's and looks the parent up among the
    tasks restored so far: a task listed before its parent silently gets empty data, and so does
    everything below it. The order of the `tasks` keys is therefore part of the format, but JSONB
    does not keep key order (it returns them sorted, i.e. by random UUID). Tree order depends on
    the content alone, so both dialects restore the same workflow.
    """
    tasks = workflow_dct["tasks"]
    ordered: dict = {}
    stack = [workflow_dct["root"]]
    while stack:  # iterative: looping instances grow deep trees
        task_id = stack.pop()
        task = tasks.get(task_id)
        if task is None or task_id in ordered:
            continue
        ordered[task_id] = task
        stack.extend(reversed(task["children"]))
    for task_id, task in tasks.items():  # unreachable from the root: keep rather than drop
        ordered.setdefault(task_id, task)
    return {**workflow_dct, "tasks": ordered}


def restore(state: dict, parsed: ParsedDefinition, engine: SafeScriptEngine) -> BpmnWorkflow:
    ser = _serializer()
    dct = dict(state)
    dct.setdefault(ser.VERSION_KEY, SERIALIZER_VERSION)
    token = _current_spec.set(parsed)
    try:
        ser.migrate(dct)
        # Copies, not the column's dicts: restoring pops keys from these, and the state must
        # survive being restored more than once.
        dct = _parents_first(dct)
        dct["subprocesses"] = {sp_id: _parents_first(sp) for sp_id, sp in dct.get("subprocesses", {}).items()}
        wf = ser.from_dict(dct)
    finally:
        _current_spec.reset(token)
    wf.script_engine = engine  # never keep the unrestricted default engine
    return wf


def lock_instance(session: Session, instance_id: int) -> ProcessInstance:
    """Load the instance row under a write lock (FOR UPDATE; BEGIN IMMEDIATE already holds it on SQLite)."""
    stmt = select(ProcessInstance).where(ProcessInstance.id == instance_id).options(undefer(ProcessInstance.state))
    if session.get_bind().dialect.name != "sqlite":
        stmt = stmt.with_for_update(of=ProcessInstance)
    instance = session.execute(stmt.execution_options(populate_existing=True)).scalar_one_or_none()
    if instance is None:
        raise NotFound("case not found")
    return instance


def lock_task(session: Session, task_id: int) -> HumanTask | None:
    stmt = select(HumanTask).where(HumanTask.id == task_id)
    if session.get_bind().dialect.name != "sqlite":
        stmt = stmt.with_for_update(of=HumanTask)
    return session.execute(stmt.execution_options(populate_existing=True)).scalar_one_or_none()


def load_workflow(instance: ProcessInstance, parsed: ParsedDefinition, engine: SafeScriptEngine) -> BpmnWorkflow:
    return restore(instance.state, parsed, engine)


def element_states(instance: ProcessInstance, parsed: ParsedDefinition) -> tuple[list[str], list[str]]:
    """BPMN ids of the model's elements that have run (completed) and that hold the case now
    (ready or waiting tasks, waiting timer events), read from the stored state without restoring
    the workflow: the case diagram needs only each task's spec and state.

    An element that ran before and is current again (a review after a correction) is only active.
    Gateways are never active: a join waiting for its other branches is not a step anyone works on.
    """
    specs = {}
    for spec in (parsed.spec, *parsed.subprocess_specs.values()):
        specs.update(spec.task_specs)
    state = instance.state or {}
    done, now = set(), set()
    for workflow in (state, *(state.get("subprocesses") or {}).values()):
        for task in (workflow.get("tasks") or {}).values():
            spec = specs.get(task.get("task_spec"))
            bpmn_id = getattr(spec, "bpmn_id", None)
            if bpmn_id is None:  # engine-internal specs (Start, EndJoin, boundary splits)
                continue
            if task.get("state") == TaskState.COMPLETED:
                done.add(bpmn_id)
            elif task.get("state", 0) & (TaskState.READY | TaskState.STARTED | TaskState.WAITING) \
                    and "Gateway" not in type(spec).__name__:
                now.add(bpmn_id)
    return sorted(done - now), sorted(now)


def save_workflow(instance: ProcessInstance, wf: BpmnWorkflow) -> None:
    instance.state = dump_state(wf)
    instance.serializer_version = SERIALIZER_VERSION
    instance.version = (instance.version or 0) + 1
    instance.next_due_at = next_due(wf)
    if wf.is_completed() and instance.status == "running":
        instance.status = "completed"
        instance.completed_at = utcnow()
