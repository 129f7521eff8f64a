"""Workflow state survives a save and load through ProcessInstance.state on either dialect.

Spiff restores task data as deltas on the parent task's data, so the restore needs each parent
before its children; JSONB hands the `tasks` keys back sorted instead of in the order written.
Task ids are forced to descend here, so every child's id sorts before its parent's and a
restore that follows the column's key order loses the data every time, not by chance.
"""
import itertools
from datetime import datetime, timezone
from uuid import UUID

import pytest
from sqlalchemy import delete

from engine.bpmn import store
from engine.bpmn.parser import parse_definition
from engine.bpmn.runtime import SafeScriptEngine, complete_human_task, new_workflow, ready_human_tasks
from engine.db import ProcessDefinition, ProcessInstance
from engine.db.uow import unit_of_work

pytestmark = pytest.mark.integration

NS = ('xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
      'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs" targetNamespace="test"')


def service(task_id: str, operator: str) -> str:
    return (f'<bpmn:serviceTask id="{task_id}"><bpmn:extensionElements>'
            f'<spiffworkflow:serviceTaskOperator id="{operator}" resultVariable="{task_id}_result">'
            f'<spiffworkflow:parameters/></spiffworkflow:serviceTaskOperator>'
            f'</bpmn:extensionElements></bpmn:serviceTask>')


def flows(*pairs: tuple[str, str]) -> str:
    return "".join(f'<bpmn:sequenceFlow id="f_{a}_{b}" sourceRef="{a}" targetRef="{b}"/>' for a, b in pairs)


# A service task before a parallel split, as in the installation notice, and a service task
# before a user task that is entered again, as the reply in inspection_rectification.
PARALLEL = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS}><bpmn:process id="parallel" isExecutable="true">
  <bpmn:startEvent id="start"/>{service("arm", "test.arm")}
  <bpmn:parallelGateway id="split"/><bpmn:userTask id="left"/><bpmn:userTask id="right"/>
  <bpmn:parallelGateway id="join"/><bpmn:userTask id="reply"/>
  <bpmn:exclusiveGateway id="again" default="f_again_end"/><bpmn:endEvent id="end"/>
  {flows(("start", "arm"), ("arm", "split"), ("split", "left"), ("split", "right"), ("left", "join"),
         ("right", "join"), ("join", "reply"), ("reply", "again"), ("again", "end"))}
  <bpmn:sequenceFlow id="f_again_arm" sourceRef="again" targetRef="arm">
    <bpmn:conditionExpression>resubmit</bpmn:conditionExpression></bpmn:sequenceFlow>
</bpmn:process></bpmn:definitions>""".encode()

SUBPROCESS = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS}><bpmn:process id="nested" isExecutable="true">
  <bpmn:startEvent id="start"/>
  <bpmn:subProcess id="inner">
    <bpmn:startEvent id="inner_start"/>{service("inner_arm", "test.arm")}
    <bpmn:userTask id="inner_task"/><bpmn:endEvent id="inner_end"/>
    {flows(("inner_start", "inner_arm"), ("inner_arm", "inner_task"), ("inner_task", "inner_end"))}
  </bpmn:subProcess>
  <bpmn:userTask id="outer_task"/><bpmn:endEvent id="end"/>
  {flows(("start", "inner"), ("inner", "outer_task"), ("outer_task", "end"))}
</bpmn:process></bpmn:definitions>""".encode()

DEADLINE = datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc)


def arm(call) -> dict:
    call.data["armed"] = call.data.get("armed", 0) + 1
    call.data["deadline_at"] = DEADLINE
    call.data["record"] = {"id": 7, "facts": ["a", "b"]}
    return {"ok": True}


ENGINE = SafeScriptEngine({"test.arm": arm})


@pytest.fixture
def descending_task_ids(monkeypatch):
    counter = itertools.count()
    monkeypatch.setattr("SpiffWorkflow.task.uuid4", lambda: UUID(int=2**128 - 1 - next(counter)))


@pytest.fixture
def instance_row(db_engine):
    """A ProcessInstance row to save state into; returns a save/load round trip through it."""
    with unit_of_work(db_engine) as s:
        definition = ProcessDefinition(process_key="store_roundtrip", version=1, file_name="t.bpmn",
                                       bpmn_xml="", sha256="f" * 64)
        s.add(definition)
        s.flush()
        row = ProcessInstance(definition_id=definition.id, process_key="store_roundtrip",
                              serializer_version=store.SERIALIZER_VERSION)
        s.add(row)
        s.flush()
        ids = (definition.id, row.id)

    def roundtrip(wf, parsed):
        with unit_of_work(db_engine) as s:
            store.save_workflow(store.lock_instance(s, ids[1]), wf)
        with unit_of_work(db_engine) as s:
            return store.load_workflow(store.lock_instance(s, ids[1]), parsed, ENGINE)

    yield roundtrip
    with unit_of_work(db_engine) as s:
        s.execute(delete(ProcessInstance).where(ProcessInstance.id == ids[1]))
        s.execute(delete(ProcessDefinition).where(ProcessDefinition.id == ids[0]))


def task_data(wf) -> dict:
    return {t.id: t.data for t in wf.get_tasks()}


def ready(wf, name):
    (task,) = [t for t in ready_human_tasks(wf) if t.task_spec.name == name]
    return task


def test_service_task_data_survives_parallel_join_and_reentry(descending_task_ids, instance_row):
    parsed = parse_definition(PARALLEL, "parallel.bpmn", "parallel")
    wf = new_workflow(parsed, ENGINE, {"case": "A-1"})
    for step, data in [("left", {"l": 1}), ("right", {"r": 2}), ("reply", {"resubmit": True}),
                       ("left", {"l2": 3}), ("right", {"r2": 4})]:
        before = task_data(wf)
        wf = instance_row(wf, parsed)
        assert task_data(wf) == before
        complete_human_task(wf, str(ready(wf, step).id), data)

    wf = instance_row(wf, parsed)
    reply = ready(wf, "reply").data
    assert reply["armed"] == 2 and reply["deadline_at"] == DEADLINE
    assert {k: reply[k] for k in ("case", "l", "r", "l2", "r2", "record")} == {
        "case": "A-1", "l": 1, "r": 2, "l2": 3, "r2": 4, "record": {"id": 7, "facts": ["a", "b"]}}


def test_subprocess_task_data_survives_save_and_load(descending_task_ids, instance_row):
    parsed = parse_definition(SUBPROCESS, "nested.bpmn", "nested")
    wf = new_workflow(parsed, ENGINE, {"case": "B-1"})
    before = task_data(wf)
    wf = instance_row(wf, parsed)
    assert task_data(wf) == before
    assert ready(wf, "inner_task").data["deadline_at"] == DEADLINE

    complete_human_task(wf, str(ready(wf, "inner_task").id), {"done": True})
    wf = instance_row(wf, parsed)
    outer = ready(wf, "outer_task").data
    assert outer["case"] == "B-1" and outer["done"] is True and outer["armed"] == 1


def test_restore_ignores_key_order_and_leaves_the_state_as_it_was(descending_task_ids):
    parsed = parse_definition(SUBPROCESS, "nested.bpmn", "nested")
    wf = new_workflow(parsed, ENGINE, {"case": "C-1"})
    expected = task_data(wf)
    state = store.dump_state(wf)
    shuffled = dict(state, tasks=dict(sorted(state["tasks"].items())), subprocesses={
        sp_id: dict(sp, tasks=dict(sorted(sp["tasks"].items()))) for sp_id, sp in state["subprocesses"].items()})
    for _ in range(2):  # the same dict twice, as a page that loads a case more than once would
        assert task_data(store.restore(shuffled, parsed, ENGINE)) == expected
