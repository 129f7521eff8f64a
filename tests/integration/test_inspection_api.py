"""Spot check → rectification notice → contractor reply → supervisor countersign → re-inspection,
stop orders that block the crane, and the escalation of overdue notices, through the API."""
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import AuditEvent, ConductRecord, Crane, HumanTask, Inspection, ProcessInstance
from engine.services.crane_facts import crane_facts
from engine.services.settings import CHINA_TZ
from engine.services.timers import fire_due_timers
from tests.helpers import approved_crane, upload
from tests.integration import test_installation_api as site

PROJECT = "4201062026-0001"
MANAGER = {"name": "钱项目", "id_number": "42010219800101001X", "certificates": [
    {"kind": "safety_manager", "category": "B", "number": "鄂建安B(2024)0001234", "issuer": "湖北省住房和城乡建设厅",
     "valid_until": "2029-01-01"}]}
INSPECTORS = [{"name": "陈静", "badge_no": "鄂建执 420100001"}, {"name": "刘洋", "badge_no": "鄂建执 420100002"}]


@pytest.fixture
def installed(api):
    """A crane acknowledged on the Wuhan project (installing); returns its id."""
    site.register(api, "installer_wuhan", site.CREW)
    site.register(api, "contractor_wuhan", [MANAGER])
    crane_id = approved_crane(api, "INSP-1")
    site.acknowledged(api, crane_id)
    return crane_id


def hazard(**overrides):
    data = {"description": "标准节连接螺栓缺失 2 颗", "location": "3# 塔吊第 12 节", "category": "tower_cranes",
            "grade": "general", "clause": "JGJ 196-2010 第 4.0.2 条"}
    data.update(overrides)
    return data


def check_data(api, **overrides):
    data = {"project_code": PROJECT, "check_date": site.today_china().isoformat(), "check_type": "routine",
            "inspectors": INSPECTORS, "hazards": [hazard(), hazard(description="临边防护缺失", category="work_at_height",
                                                                 location="5 层东侧")],
            "instrument": "rectification", "deadline_days": 5, "signatures": "signed"}
    data.update(overrides)
    return data


def start_check(api, username="reg_wuhan", status=201, **overrides):
    r = api(username).post("/api/v1/cases", json={"process_key": "inspection_rectification",
                                                  "data": check_data(api, **overrides)})
    assert r.status_code == status, r.get_data(as_text=True)
    return r.get_json()


def reply(api, case_id, numbers=(1, 2), status=200, **overrides):
    contractor = api("contractor_wuhan")
    data = {"items": [{"hazard_no": n, "measure": "已补齐螺栓并复紧", "completed_on": site.today_china().isoformat(),
                       "evidence": [upload(contractor, name=f"after-{n}.pdf")]} for n in numbers],
            "project_manager": MANAGER["name"], "project_manager_cert": MANAGER["certificates"][0]["number"]}
    data.update(overrides)
    return site.complete(api, "contractor_wuhan", case_id, data, name="reply_rectification", status=status)


def reinspection(results, new_deadline_days=None):
    data = {"reinspected_on": site.today_china().isoformat(), "inspectors": INSPECTORS,
            "results": [{"hazard_no": n, "result": r} for n, r in results]}
    if new_deadline_days is not None:
        data["new_deadline_days"] = new_deadline_days
    return data


def inspection_row(world, case_id) -> Inspection:
    with Session(world.engine) as s:
        row = s.scalar(select(Inspection).where(Inspection.instance_id == case_id))
        s.expunge(row)
        return row


def test_rectification_round_trip_closes_every_hazard(world, api, installed):
    case = start_check(api)
    assert case["title"].startswith("监督检查：光谷科技园三期 3# 楼")
    assert [t["name"] for t in case["open_tasks"]] == ["reply_rectification"]
    row = inspection_row(world, case["id"])
    assert row.notice_number == f"鄂A整改〔{site.today_china().year}〕00001号"
    assert row.deadline_on == site.today_china() + timedelta(days=5)
    # The contractor and the supervisor see the case; another region's enterprise and regulator do not.
    for username in ("contractor_wuhan", "supervisor_wuhan", "reg_province"):
        assert api(username).get(f"/api/v1/cases/{case['id']}").status_code == 200
    for username in ("owner_yichang", "reg_yichang"):
        assert api(username).get(f"/api/v1/cases/{case['id']}").status_code == 404
    reply(api, case["id"])
    site.complete(api, "supervisor_wuhan", case["id"], {"decision": "pass", "chief_supervisor": "吴总监"})
    site.complete(api, "reg_wuhan2", case["id"], reinspection([(1, "pass"), (2, "pass")]))
    got = api("reg_wuhan").get(f"/api/v1/cases/{case['id']}").get_json()
    assert got["status"] == "completed" and got["open_tasks"] == []
    row = inspection_row(world, case["id"])
    assert row.status == "closed" and row.closed_at is not None


def test_a_failed_reinspection_reissues_with_a_new_deadline(world, api, installed):
    case_id = start_check(api)["id"]
    reply(api, case_id)
    # The supervisor sends an unconvincing reply back; the contractor answers again.
    site.complete(api, "supervisor_wuhan", case_id, {"decision": "return", "chief_supervisor": "吴总监"}, status=422)
    site.complete(api, "supervisor_wuhan", case_id, {"decision": "return", "chief_supervisor": "吴总监",
                                                      "reason": "缺少整改后照片"})
    reply(api, case_id)
    site.complete(api, "supervisor_wuhan", case_id, {"decision": "pass", "chief_supervisor": "吴总监"})
    # The re-inspection is another officer's (four-eyes: reg_wuhan recorded the spot check).
    r = api("reg_wuhan2")
    task = site.task_of(api, "reg_wuhan2", case_id, "reinspect")
    bad = r.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": reinspection([(1, "pass"), (2, "fail")])})
    assert bad.status_code == 422 and "new_deadline_days" in bad.get_json()["errors"]
    bad = r.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": reinspection([(1, "pass")])})
    assert bad.status_code == 422 and "2" in bad.get_json()["errors"]["results"][0]
    site.complete(api, "reg_wuhan2", case_id, reinspection([(1, "pass"), (2, "fail")], new_deadline_days=3))
    row = inspection_row(world, case_id)
    assert row.status == "open" and row.deadline_on == site.today_china() + timedelta(days=3)
    # Only the hazard still open is answered in the second round.
    reply(api, case_id, numbers=(1, 2), status=422)
    reply(api, case_id, numbers=(2,))
    site.complete(api, "supervisor_wuhan", case_id, {"decision": "pass", "chief_supervisor": "吴总监"})
    site.complete(api, "reg_wuhan2", case_id, reinspection([(2, "pass")]))
    assert inspection_row(world, case_id).status == "closed"


def test_spot_check_refusals_name_the_field_and_the_rule(api, installed):
    errors = start_check(api, status=422, inspectors=INSPECTORS[:1])["errors"]
    assert "inspectors" in errors
    errors = start_check(api, status=422, instrument="none")["errors"]
    assert errors["instrument"] == ["发现隐患时须下发整改通知书、停工整改通知书或停止使用指令。"]
    errors = start_check(api, status=422, hazards=[hazard(grade="major")])["errors"]
    assert errors["instrument"] == ["存在重大隐患的，应下发停工整改通知书或责令停止使用。"]
    errors = start_check(api, status=422, hazards=[hazard(major_item="safety_devices")])["errors"]
    assert errors["hazards"]["0"]["grade"] == ["符合重大隐患判定项的隐患应定为重大隐患。"]
    errors = start_check(api, status=422, deadline_days=10)["errors"]
    assert errors["deadline_days"] == ["整改通知书（限期整改）的整改期限不能超过 7 日。"]
    errors = start_check(api, status=422, hazards=[hazard(crane_record_number="鄂A-T-2026-99999")])["errors"]
    assert "crane_record_number" in errors["hazards"]["0"]
    # A project outside the regulator's jurisdiction is refused as if it did not exist.
    errors = start_check(api, "reg_yichang", status=422)["errors"]
    assert errors["project_code"] == ["本辖区内没有该项目编号的工程。"]
    # Enterprises cannot start inspections.
    r = api("contractor_wuhan").post("/api/v1/cases", json={"process_key": "inspection_rectification",
                                                            "data": check_data(api)})
    assert r.status_code == 403
    # English requests get English messages.
    r = api("reg_wuhan").post("/api/v1/cases", json={"process_key": "inspection_rectification",
                                                     "data": check_data(api, deadline_days=10)},
                              headers={"Accept-Language": "en"})
    assert r.get_json()["errors"]["deadline_days"] == ["The deadline of a Rectification notice may not exceed 7 days."]


def test_a_check_without_hazards_closes_at_once(world, api, installed):
    case = start_check(api, hazards=[], instrument="none", jgj59_score=86.5)
    assert case["status"] == "completed"
    row = inspection_row(world, case["id"])
    assert row.notice_number is None and float(row.jgj59_score) == 86.5


def test_reply_refusals(api, installed):
    case_id = start_check(api)["id"]
    errors = reply(api, case_id, numbers=(1,), status=422)["errors"]
    assert errors["items"] == ["以下隐患尚未回复：第 2 项。"]
    errors = reply(api, case_id, numbers=(1, 1, 2), status=422)["errors"]
    assert errors["items"]["1"]["hazard_no"] == ["第 1 项隐患重复回复。"]
    errors = reply(api, case_id, status=422, project_manager_cert="鄂建安B(2024)0009999")["errors"]
    assert errors["project_manager_cert"][0].startswith("项目负责人须持有效的安全生产考核合格证书")
    foreign = upload(api("supervisor_wuhan"))
    items = [{"hazard_no": n, "measure": "已整改", "completed_on": site.today_china().isoformat(), "evidence": [foreign]}
             for n in (1, 2)]
    errors = reply(api, case_id, status=422, items=items)["errors"]
    assert errors["items"]["0"]["evidence"] == ["附件不存在或无权使用。"]


def test_a_stop_use_order_blocks_use_registration_until_reinspection_passes(world, api):
    site.register(api, "installer_wuhan", site.CREW)
    site.register(api, "contractor_wuhan", [MANAGER, *site.OPERATORS])
    crane_id = approved_crane(api, "INSP-2")
    installation_id = site.inspected(api, crane_id)
    number = site.record_number(api, crane_id)
    major = hazard(grade="major", major_item="safety_devices", crane_record_number=number,
                   description="起重量限制器失效")
    case_id = start_check(api, hazards=[major], instrument="stop_use", deadline_days=10,
                          stop_use_record_number=number)["id"]
    assert inspection_row(world, case_id).notice_number.startswith("鄂A停用〔")
    # Acceptance passes, but no use registration is opened while the order stands …
    for username in ("contractor_wuhan", "owner_wuhan", "installer_wuhan", "supervisor_wuhan"):
        site.complete(api, username, installation_id, site.signoff(site.today_china()))
    assert site.crane_status(api, crane_id) == "accepted"
    assert "registration_not_opened" in _events(world, installation_id)
    contractor = api("contractor_wuhan")
    application = {"process_key": "use_registration", "data": {
        "crane_id": crane_id, "equipment_manager": "黄河",
        "documents": {d: [upload(contractor)] for d in ("lease_contract", "management_rules", "emergency_plan")},
        "operators": [{"name": "赵大勇", "certificate_no": "鄂A052022000321"},
                      {"name": "赵大勇", "certificate_no": "鄂A042022000654"}]}}
    r = api("contractor_wuhan").post("/api/v1/cases", json=application)
    assert r.status_code == 422
    assert r.get_json()["errors"]["crane_id"] == ["该设备已被责令停止使用，解除前不能办理告知或使用登记。"]
    # … and the order is lifted when the re-inspection passes.
    reply(api, case_id, numbers=(1,))
    site.complete(api, "supervisor_wuhan", case_id, {"decision": "pass", "chief_supervisor": "吴总监"})
    site.complete(api, "reg_wuhan2", case_id, reinspection([(1, "pass")]))
    assert "order_lifted" in _events(world, case_id)
    r = api("contractor_wuhan").post("/api/v1/cases", json=application)
    assert r.status_code == 201, r.get_data(as_text=True)
    assert [t["name"] for t in r.get_json()["open_tasks"]] == ["review_registration"]


def test_an_open_major_hazard_blocks_the_crane_even_without_a_stop_order(world, api, installed):
    number = site.record_number(api, installed)
    major = hazard(grade="major", major_item="foundation", crane_record_number=number, description="基础沉降超限")
    start_check(api, hazards=[major], instrument="stop_work", deadline_days=15)
    with Session(world.engine) as s:
        crane = s.get(Crane, installed)
        assert crane_facts(crane, site.today_china()).open_major_hazard
        assert not crane_facts(crane, site.today_china()).stop_use_order


def _events(world, case_id):
    with Session(world.engine) as s:
        return s.scalars(select(AuditEvent.action).where(AuditEvent.instance_id == case_id)
                         .order_by(AuditEvent.id)).all()


def test_an_overdue_notice_escalates_to_the_superior_level(world, api, installed):
    # Recorded a week late with a 3-day deadline: overdue as soon as it is recorded.
    case_id = start_check(api, check_date=(site.today_china() - timedelta(days=7)).isoformat(), deadline_days=3)["id"]
    assert "escalated" in _events(world, case_id)
    with Session(world.engine) as s:
        case = s.get(ProcessInstance, case_id)
        assert case.overdue_since is not None
        record = s.scalar(select(ConductRecord).where(ConductRecord.instance_id == case_id))
        assert record.status == "candidate" and "逾期" in record.description
        tasks = {t.task_name: t for t in s.scalars(select(HumanTask).where(
            HumanTask.instance_id == case_id, HumanTask.status == "open"))}
    assert set(tasks) == {"reply_rectification", "supervise_overdue"}
    # The inspecting office is Wuhan (city): the province oversees; Wuhan itself cannot act on it.
    assert tasks["supervise_overdue"].region_code == "420000" and tasks["supervise_overdue"].levels == "province"
    assert site.task_of(api, "reg_province", case_id)["name"] == "supervise_overdue"
    assert [t for t in api("reg_wuhan").get("/api/v1/tasks").get_json()["items"]
            if t["name"] == "supervise_overdue"] == []
    # A reply sent back restarts the timer on the same deadline: no second escalation.
    reply(api, case_id)
    site.complete(api, "supervisor_wuhan", case_id, {"decision": "return", "chief_supervisor": "吴总监",
                                                      "reason": "照片不清晰"})
    assert _events(world, case_id).count("escalated") == 1
    site.complete(api, "reg_province", case_id, {"action": "summons", "conduct_record": "confirm",
                                                  "opinion": "约谈项目负责人，记入不良行为记录"})
    with Session(world.engine) as s:
        assert s.scalar(select(ConductRecord.status).where(ConductRecord.instance_id == case_id)) == "confirmed"


def test_the_deadline_timer_is_swept(world, api, installed, monkeypatch):
    from engine.services import inspection

    monkeypatch.setattr(inspection, "deadline_moment", lambda day: datetime.now(CHINA_TZ) + timedelta(seconds=1))
    case_id = start_check(api)["id"]
    assert "escalated" not in _events(world, case_id)
    assert fire_due_timers(world.engine) == 0
    time.sleep(1.1)
    assert fire_due_timers(world.engine) == 1
    assert _events(world, case_id).count("escalated") == 1
    assert site.task_of(api, "reg_province", case_id)["name"] == "supervise_overdue"
