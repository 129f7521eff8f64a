"""Running workflows: the sandboxed script engine and the step helpers services call."""
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.util.task import TaskState

from .expressions import SafeEnvironment
from .parser import ParsedDefinition

# Spiff attaches task data to debug log records; keep regulated data out of the logs.
logging.getLogger("spiff").setLevel(logging.WARNING)

Operator = Callable[["OperatorCall"], dict]


@dataclass
class OperatorCall:
    """What a service-task operator receives: the task data and the per-transition context."""

    name: str
    data: dict
    params: dict
    context: Any


class SafeScriptEngine(PythonScriptEngine):
    """Expression-only evaluation; service tasks dispatch to whitelisted operators."""

    def __init__(self, operators: dict[str, Operator] | None = None, context: Any = None):
        super().__init__(environment=SafeEnvironment())
        self.operators = operators or {}
        self.context = context

    def call_service(self, task, operation_name=None, operation_params=None, **_):
        operator = self.operators.get(operation_name)
        if operator is None:
            raise LookupError(f"unknown service operator {operation_name!r}")
        params = {k: v["value"] for k, v in (operation_params or {}).items()}
        result = operator(OperatorCall(operation_name, task.data, params, self.context))
        return json.dumps(result if result is not None else {})


def new_workflow(parsed: ParsedDefinition, engine: SafeScriptEngine, data: dict) -> BpmnWorkflow:
    wf = BpmnWorkflow(parsed.spec, parsed.subprocess_specs, script_engine=engine)
    start = wf.get_next_task(state=TaskState.READY)
    start.data.update(data)
    wf.do_engine_steps()
    return wf


def ready_human_tasks(wf: BpmnWorkflow) -> list:
    return wf.get_tasks(state=TaskState.READY, manual=True)


def complete_human_task(wf: BpmnWorkflow, task_guid: str, data: dict) -> None:
    task = wf.get_task_from_id(UUID(task_guid))
    if task is None or task.state != TaskState.READY:
        raise LookupError(f"task {task_guid} is not ready")
    task.data.update(data)
    task.run()
    wf.do_engine_steps()


def advance_timers(wf: BpmnWorkflow) -> None:
    wf.refresh_timers()
    wf.do_engine_steps()


_TIMER_EVENTS = ("DurationTimerEventDefinition", "TimeDateEventDefinition", "CycleTimerEventDefinition")


def waiting_timers(wf: BpmnWorkflow) -> dict[str, datetime]:
    """Each waiting timer event's task id and due time (a cycle timer: its next firing)."""
    due = {}
    for task in wf.event_manager.tasks.values():
        details = task.task_spec.event_definition.details(task)
        if details.event_type in _TIMER_EVENTS and isinstance(details.value, str):
            due[str(task.id)] = datetime.fromisoformat(details.value)
    return due


def next_due(wf: BpmnWorkflow):
    due = waiting_timers(wf).values()
    return min(due) if due else None
