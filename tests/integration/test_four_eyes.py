"""Four-eyes: whoever recorded the spot check may not also pass its re-inspection, by any route."""
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import AuditEvent, ProcessDefinition
from engine.services import definitions, four_eyes
from forms import t
from tests.conftest import csrf_from
from tests.integration import test_inspection_api as checks
from tests.integration import test_installation_api as site
from tests.integration.test_inbox_claims import browser as browser_fixture

installed = checks.installed
browser = browser_fixture


@pytest.fixture
def awaiting_reinspection(api, installed):
    """A rectification case recorded by reg_wuhan, answered and countersigned: the re-inspection is open."""
    case_id = checks.start_check(api)["id"]
    checks.reply(api, case_id)
    site.complete(api, "supervisor_wuhan", case_id, {"decision": "pass", "chief_supervisor": "吴总监"})
    return case_id


def _reinspect_task(api, username, case_id):
    return site.task_of(api, username, case_id, "reinspect")


def test_the_recorder_of_the_spot_check_cannot_complete_or_claim_the_reinspection(api, awaiting_reinspection):
    case_id = awaiting_reinspection
    reg = api("reg_wuhan")
    task = _reinspect_task(api, "reg_wuhan", case_id)
    assert task["four_eyes_barred"] is True
    assert _reinspect_task(api, "reg_wuhan2", case_id)["four_eyes_barred"] is False
    detail = reg.get(f"/api/v1/tasks/{task['id']}").get_json()
    assert detail["four_eyes_conflict"] == "登记监督检查"
    message = t("four_eyes", "zh_CN", step="登记监督检查")
    r = reg.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": checks.reinspection([(1, "pass"), (2, "pass")])})
    assert (r.status_code, r.get_json()["message"]) == (403, message)
    r = reg.post(f"/api/v1/tasks/{task['id']}/claim", headers={"Accept-Language": "en"})
    assert (r.status_code, r.get_json()["message"]) == (403, t("four_eyes", "en", step="登记监督检查"))
    # The case did not move; a colleague of the same office passes the re-inspection.
    assert api("reg_wuhan2").get(f"/api/v1/tasks/{task['id']}").get_json()["four_eyes_conflict"] is None
    site.complete(api, "reg_wuhan2", case_id, checks.reinspection([(1, "pass"), (2, "pass")]))
    assert reg.get(f"/api/v1/cases/{case_id}").get_json()["status"] == "completed"


def test_reassign_offers_only_colleagues_the_rule_allows(api, world, awaiting_reinspection):
    task = _reinspect_task(api, "reg_wuhan2", awaiting_reinspection)
    r = api("reg_wuhan2").post(f"/api/v1/tasks/{task['id']}/reassign",
                               json={"user_id": world.user("reg_wuhan").id, "reason": "请陈静复查"})
    assert r.status_code == 422 and r.get_json()["errors"] == {"user_id": [t("reassign_target_ineligible", "zh_CN")]}
    # The barred officer may still hand the task on to a colleague who may do it.
    r = api("reg_wuhan").post(f"/api/v1/tasks/{task['id']}/reassign",
                              json={"user_id": world.user("reg_wuhan2").id, "reason": "本人登记的检查，回避"})
    assert r.status_code == 200, r.get_data(as_text=True)
    with Session(world.engine) as s:
        assert s.scalar(select(AuditEvent.detail).where(AuditEvent.action == "reassign"))["reason"] == "本人登记的检查，回避"


def test_pages_show_the_rule_and_hide_the_actions(api, browser, awaiting_reinspection):
    client = browser("reg_wuhan")
    task = _reinspect_task(api, "reg_wuhan", awaiting_reinspection)
    inbox = client.get("/inbox").get_data(as_text=True)
    row = inbox[inbox.index(f'data-task-id="{task["id"]}"'):]
    row = row[:row.index("</tr>")]
    assert 'data-testid="four-eyes"' in row and 'data-testid="claim"' not in row
    page = client.get(f"/tasks/{task['id']}").get_data(as_text=True)
    assert "四眼原则" in page and "登记监督检查" in page
    assert 'data-testid="claim"' not in page
    r = client.post(f"/tasks/{task['id']}", data={"csrf_token": csrf_from(page), "reinspected_on": "2026-11-20"})
    assert r.status_code == 403
    other = browser("reg_wuhan2").get(f"/tasks/{task['id']}").get_data(as_text=True)
    assert 'data-testid="four-eyes"' not in other and 'data-testid="claim"' in other


def test_the_model_declares_the_rule_and_the_studio_checks_it(world):
    with Session(world.engine) as s:
        latest = {key: definitions.latest_definition(s, key) for key in ("inspection_rectification",
                                                                         "installation_notice")}
        assert four_eyes.guarded_steps(latest["inspection_rectification"], "reinspect") == ("record_spot_check",)
        assert four_eyes.guarded_steps(latest["installation_notice"], "signoff_owner") == ("signoff_installer",)
        assert four_eyes.guarded_steps(latest["installation_notice"], "signoff_user") == ()
        source = s.scalar(select(ProcessDefinition.bpmn_xml).where(ProcessDefinition.id == latest[
            "inspection_rectification"].id))
    bad = source.replace('name="fourEyes" value="record_spot_check"', 'name="fourEyes" value="no_such_step"')
    problems = definitions.validate(bad.encode(), process_key="inspection_rectification", file_name="x.bpmn")
    assert [(p["element"], p["message"]) for p in problems] == [
        ("reinspect", "fourEyes must list user task ids of this process (unknown: no_such_step)")]
    assert problems[0]["line"] == bad[:bad.index("no_such_step")].count("\n") + 1
