"""The enterprise filing BPMN lane by lane, with a JSON save/restore at every wait state."""
import pytest

from engine.bpmn import store
from engine.bpmn.parser import parse_definition
from engine.bpmn.runtime import SafeScriptEngine, complete_human_task, new_workflow, ready_human_tasks
from workflows.catalog import get_entry

ENTRY = get_entry("enterprise_filing")
OPERATORS = ("submit", "approve", "return_for_correction", "reject")


@pytest.fixture(scope="module")
def parsed():
    return parse_definition(ENTRY.path.read_bytes(), ENTRY.file, ENTRY.key)


def _engine(calls):
    ops = {f"enterprise_filing.{name}": (lambda call, name=name: calls.append(name) or {}) for name in OPERATORS}
    return SafeScriptEngine(operators=ops)


def _step(wf, parsed, calls, data):
    wf = store.restore(store.dump_state(wf), parsed, _engine(calls))
    (task,) = ready_human_tasks(wf)
    complete_human_task(wf, str(task.id), data)
    return wf


def _lanes(wf):
    return [(t.task_spec.name, t.task_spec.lane) for t in ready_human_tasks(wf)]


def test_lanes_are_the_catalogs():
    assert set(ENTRY.lanes) == {"申报企业", "注册地主管部门"}
    assert ENTRY.lanes["申报企业"].role == "enterprise"


def test_submit_return_correct_approve(parsed):
    calls = []
    wf = new_workflow(parsed, _engine(calls), {})
    assert _lanes(wf) == [("submit_enterprise_filing", "申报企业")]
    wf = _step(wf, parsed, calls, {})
    assert _lanes(wf) == [("review_enterprise_filing", "注册地主管部门")]
    wf = _step(wf, parsed, calls, {"decision": "return", "reason": "缺页"})
    assert _lanes(wf) == [("correct_enterprise_filing", "申报企业")]
    wf = _step(wf, parsed, calls, {})
    wf = _step(wf, parsed, calls, {"decision": "approve"})
    assert wf.is_completed()
    assert calls == ["submit", "return_for_correction", "submit", "approve"]


def test_reject_path(parsed):
    calls = []
    wf = _step(new_workflow(parsed, _engine(calls), {}), parsed, calls, {})
    wf = _step(wf, parsed, calls, {"decision": "reject", "reason": "资质证书伪造"})
    assert wf.is_completed() and calls == ["submit", "reject"]
