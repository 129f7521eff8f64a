"""The record cancellation BPMN lane by lane, with a JSON save/restore at every wait state."""
import pytest

from engine.bpmn import store
from engine.bpmn.parser import parse_definition
from engine.bpmn.runtime import SafeScriptEngine, complete_human_task, new_workflow, ready_human_tasks
from workflows.catalog import get_entry

ENTRY = get_entry("record_cancellation")


@pytest.fixture(scope="module")
def parsed():
    return parse_definition(ENTRY.path.read_bytes(), ENTRY.file, ENTRY.key)


def _engine(calls):
    names = ("submit", "approve", "return_for_correction", "reject")
    return SafeScriptEngine(operators={f"record_cancellation.{n}": (lambda call, n=n: calls.append(n) or {})
                                       for n in names})


def _step(wf, parsed, calls, data):
    wf = store.restore(store.dump_state(wf), parsed, _engine(calls))
    (task,) = ready_human_tasks(wf)
    assert task.task_spec.lane in ENTRY.lanes
    complete_human_task(wf, str(task.id), data)
    return wf


@pytest.mark.parametrize("decisions,expected", [
    (["approve"], ["submit", "approve"]),
    (["reject"], ["submit", "reject"]),
    (["return", None, "approve"], ["submit", "return_for_correction", "submit", "approve"]),
])
def test_paths(parsed, decisions, expected):
    calls = []
    wf = _step(new_workflow(parsed, _engine(calls), {}), parsed, calls, {})
    for decision in decisions:
        wf = _step(wf, parsed, calls, {} if decision is None else {"decision": decision, "reason": "x"})
    assert wf.is_completed() and calls == expected
