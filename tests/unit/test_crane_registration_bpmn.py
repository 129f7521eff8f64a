"""The crane filing BPMN driven lane by lane, with a JSON save/restore at every wait state."""
import pytest

from engine.bpmn import store
from engine.bpmn.parser import parse_definition
from engine.bpmn.runtime import SafeScriptEngine, complete_human_task, new_workflow, ready_human_tasks
from workflows.catalog import get_entry

ENTRY = get_entry("crane_registration")


class RecordingOperators(dict):
    """Fake operators that record the order in which the model calls them."""

    def __init__(self):
        super().__init__()
        self.calls = []
        for name in ("crane_filing.submit", "crane_filing.approve", "crane_filing.flag_overdue",
                     "crane_filing.return_for_correction", "crane_filing.reject"):
            self[name] = self._make(name)

    def _make(self, name):
        def op(call):
            self.calls.append(name)
            if name == "crane_filing.submit":
                call.data["review_deadline"] = "2099-01-01T00:00:00+08:00"
            return {"op": name}
        return op


@pytest.fixture(scope="module")
def parsed():
    return parse_definition(ENTRY.path.read_bytes(), ENTRY.file, ENTRY.key)


def _roundtrip(wf, parsed, ops):
    """Save and restore as the store does; the restored workflow must be equivalent."""
    state = store.dump_state(wf)
    assert "spec" not in state  # the spec lives with the definition version, not the case
    restored = store.restore(state, parsed, SafeScriptEngine(operators=ops))
    assert [t.task_spec.name for t in ready_human_tasks(restored)] == \
        [t.task_spec.name for t in ready_human_tasks(wf)]
    assert isinstance(restored.script_engine, SafeScriptEngine)
    return restored


def _ready(wf):
    return [(t.task_spec.name, t.task_spec.lane) for t in ready_human_tasks(wf)]


def _step(wf, data):
    (task,) = ready_human_tasks(wf)
    complete_human_task(wf, str(task.id), data)


def test_every_lane_is_mapped_in_the_catalog(parsed):
    lanes = {spec.lane for spec in parsed.spec.task_specs.values() if getattr(spec, "lane", None)}
    assert lanes == set(ENTRY.lanes) == {"产权单位", "备案机关"}


def test_return_then_correct_then_approve(parsed):
    ops = RecordingOperators()
    wf = new_workflow(parsed, SafeScriptEngine(operators=ops), {})
    assert _ready(wf) == [("submit_filing", "产权单位")]
    wf = _roundtrip(wf, parsed, ops)
    _step(wf, {"model": "QTZ80"})
    assert _ready(wf) == [("review_filing", "备案机关")]
    wf = _roundtrip(wf, parsed, ops)
    _step(wf, {"decision": "return", "reason": "缺少发票"})
    assert _ready(wf) == [("correct_filing", "产权单位")]
    wf = _roundtrip(wf, parsed, ops)
    _step(wf, {"model": "QTZ80A"})
    assert _ready(wf) == [("review_filing", "备案机关")]
    wf = _roundtrip(wf, parsed, ops)
    _step(wf, {"decision": "approve", "reason": ""})
    wf = _roundtrip(wf, parsed, ops)
    assert wf.is_completed() and _ready(wf) == []
    assert ops.calls == ["crane_filing.submit", "crane_filing.return_for_correction",
                         "crane_filing.submit", "crane_filing.approve"]
    assert wf.last_task.task_spec.name in ("end_filed", "End", "crane_registration.EndJoin")


def test_reject_ends_without_record_number(parsed):
    ops = RecordingOperators()
    wf = new_workflow(parsed, SafeScriptEngine(operators=ops), {})
    _step(wf, {})
    wf = _roundtrip(wf, parsed, ops)
    _step(wf, {"decision": "reject", "reason": "淘汰型号"})
    assert wf.is_completed()
    assert ops.calls == ["crane_filing.submit", "crane_filing.reject"]
    finished = {t.task_spec.name for t in wf.get_tasks() if t.has_state(64)}  # COMPLETED
    assert "end_rejected" in finished and "end_filed" not in finished


def test_unknown_decision_stops_at_the_gateway(parsed):
    ops = RecordingOperators()
    wf = new_workflow(parsed, SafeScriptEngine(operators=ops), {})
    _step(wf, {})
    with pytest.raises(Exception):
        _step(wf, {"decision": "maybe"})
    assert "crane_filing.approve" not in ops.calls
