"""Bulk migration of running cases between versions of a process: preview, migrate, re-check, audit."""
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import AuditEvent, HumanTask, ProcessDefinition, ProcessInstance
from engine.db.uow import unit_of_work
from engine.services import case_migration, definitions
from tests.helpers import open_task_id, start_filing
from workflows.catalog import get_entry

SOURCE = get_entry("crane_registration").path.read_text(encoding="utf-8")
RENAMED = SOURCE.replace('name="备案审核"', 'name="备案审查"')
# The review asks for another form: a case waiting at the review cannot keep its form.
NEW_REVIEW_FORM = SOURCE.replace('value="filing_review"', 'value="decision_review"')
# The correction step asks for another form: only cases waiting at the correction are affected.
NEW_CORRECTION_FORM = SOURCE.replace(
    '<bpmn:documentation>按备案机关一次性告知的补正意见修改申请后重新提交。</bpmn:documentation>\n'
    '      <bpmn:extensionElements>\n        <spiffworkflow:properties>\n'
    '          <spiffworkflow:property name="formKey" value="crane_filing" />',
    '<bpmn:documentation>按备案机关一次性告知的补正意见修改申请后重新提交。</bpmn:documentation>\n'
    '      <bpmn:extensionElements>\n        <spiffworkflow:properties>\n'
    '          <spiffworkflow:property name="formKey" value="enterprise_filing" />')


def _deploy(world, xml: str) -> int:
    with unit_of_work(world.engine) as s:
        definition, created = definitions.deploy(s, process_key="crane_registration", xml=xml.encode(),
                                                 file_name="crane_registration.bpmn")
        assert created
        return definition.version


def _version_of(world, case_id: int) -> int:
    with Session(world.engine) as s:
        instance = s.get(ProcessInstance, case_id)
        return s.get(ProcessDefinition, instance.definition_id).version


def _preview(world, to=2):
    with Session(world.engine) as s:
        return {row["case_id"]: row for row in case_migration.preview(
            s, world.user("admin"), process_key="crane_registration", from_version=1, to_version=to)}


def _migrate(world, case_ids, to=2):
    with unit_of_work(world.engine) as s:
        return {r["case_id"]: r for r in case_migration.migrate(
            s, world.user("admin"), process_key="crane_registration", from_version=1, to_version=to,
            case_ids=case_ids)}


def test_case_moves_to_v2_and_completes_there(world, api):
    owner, reg = api("owner_wuhan"), api("reg_wuhan")
    case = start_filing(owner, serial="MIG-1")
    task_id = open_task_id(case)
    assert _deploy(world, RENAMED) == 2
    preview = _preview(world)
    assert preview[case["id"]]["eligible"] and preview[case["id"]]["reason"] is None
    assert preview[case["id"]]["current_steps"] == ["备案审核"]

    results = _migrate(world, [case["id"]])
    assert results[case["id"]] == {"case_id": case["id"], "migrated": True, "reason": None}
    assert _version_of(world, case["id"]) == 2
    with Session(world.engine) as s:
        task = s.get(HumanTask, task_id)
        # The same open task (its due date and claims kept), with the label of the new version.
        assert (task.status, task.title) == ("open", "备案审查")
        events = s.scalars(select(AuditEvent).where(AuditEvent.action.in_(("migrate", "migrate_batch")))
                           .order_by(AuditEvent.id)).all()
    assert [(e.action, e.instance_id) for e in events] == [("migrate", case["id"]), ("migrate_batch", None)]
    assert events[0].detail["from_version"] == 1 and events[0].detail["to_version"] == 2
    assert events[1].detail["case_ids"] == [case["id"]] and events[1].actor_id == world.users["admin"]

    r = reg.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"decision": "approve"}})
    assert r.status_code == 200, r.get_data(as_text=True)
    done = r.get_json()
    assert done["status"] == "completed" and done["definition_version"] == 2


def test_case_whose_current_step_changed_is_refused_with_its_reason(world, api):
    case = start_filing(api("owner_wuhan"), serial="MIG-2")
    _deploy(world, NEW_REVIEW_FORM)
    row = _preview(world)[case["id"]]
    assert not row["eligible"]
    assert "备案审核" in row["reason"] and "表单" in row["reason"]
    results = _migrate(world, [case["id"]])
    assert not results[case["id"]]["migrated"] and "备案审核" in results[case["id"]]["reason"]
    assert _version_of(world, case["id"]) == 1
    with Session(world.engine) as s:
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "migrate")) is None
        batch = s.scalar(select(AuditEvent).where(AuditEvent.action == "migrate_batch"))
        assert batch.detail["case_ids"] == [] and str(case["id"]) in batch.detail["refused"]


def test_case_that_moved_on_after_the_preview_is_checked_again(world, api):
    owner, reg = api("owner_wuhan"), api("reg_wuhan")
    waiting, returned = start_filing(owner, serial="MIG-3"), start_filing(owner, serial="MIG-4")
    _deploy(world, NEW_CORRECTION_FORM)
    preview = _preview(world)
    assert preview[waiting["id"]]["eligible"] and preview[returned["id"]]["eligible"]
    # Returned for correction after the preview: it now waits at the step whose form changed.
    r = reg.post(f"/api/v1/tasks/{open_task_id(returned)}/complete",
                 json={"data": {"decision": "return", "reason": "材料不全，请补正"}})
    assert r.status_code == 200, r.get_data(as_text=True)
    results = _migrate(world, [waiting["id"], returned["id"]])
    assert results[waiting["id"]]["migrated"]
    assert not results[returned["id"]]["migrated"] and "补正备案申请" in results[returned["id"]]["reason"]
    assert (_version_of(world, waiting["id"]), _version_of(world, returned["id"])) == (2, 1)
    # The refused case is untouched: it still runs on v1 and can be corrected there.
    assert api("owner_wuhan").get(f"/api/v1/cases/{returned['id']}").get_json()["open_tasks"][0]["name"] \
        == "correct_filing"


def test_completed_or_foreign_cases_are_not_migrated(world, api):
    owner, reg = api("owner_wuhan"), api("reg_wuhan")
    case = start_filing(owner, serial="MIG-5")
    reg.post(f"/api/v1/tasks/{open_task_id(case)}/complete", json={"data": {"decision": "approve"}})
    _deploy(world, RENAMED)
    assert case["id"] not in _preview(world)
    results = _migrate(world, [case["id"]])
    assert not results[case["id"]]["migrated"] and results[case["id"]]["reason"] == "案件已不在办理中。"


def test_case_with_a_waiting_timer_that_changed_is_refused(world, api):
    case = start_filing(api("owner_wuhan"), serial="MIG-6")
    _deploy(world, SOURCE.replace("<bpmn:timeDate>review_deadline</bpmn:timeDate>",
                                  "<bpmn:timeDate>submitted_at</bpmn:timeDate>"))
    row = _preview(world)[case["id"]]
    assert not row["eligible"] and "超过办理时限" in row["reason"] and "事件定义" in row["reason"]
