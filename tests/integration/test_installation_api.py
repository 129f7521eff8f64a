"""Installation notice → GC and supervisor review → project authority → self-inspection →
inspection → four-party acceptance → use registration, driven lane by lane through the API."""
import time
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import AuditEvent, HumanTask, ProcessInstance
from engine.domain.installation import earliest_start
from engine.domain.workdays import default_calendar
from engine.services.settings import CHINA_TZ
from engine.services.timers import fire_due_timers
from tests.helpers import approved_crane, upload, uscc_of

CREW = [
    {"name": "李建国", "id_number": "11010519491231002X", "certificates": [
        {"kind": "special_operation", "category": "08", "number": "鄂A082020000123", "issuer": "湖北省住房和城乡建设厅",
         "valid_until": "2028-06-01"}]},
    {"name": "王小军", "id_number": "420106198503150018", "certificates": [
        {"kind": "special_operation", "category": "04", "number": "鄂A042021000456", "issuer": "湖北省住房和城乡建设厅",
         "valid_until": "2028-03-01"},
        {"kind": "special_operation", "category": "01", "number": "鄂A012021000789", "issuer": "湖北省住房和城乡建设厅",
         "valid_until": "2028-03-01"}]},
]
OPERATORS = [
    {"name": "赵大勇", "id_number": "420102198807070011", "certificates": [
        {"kind": "special_operation", "category": "05", "number": "鄂A052022000321", "issuer": "湖北省住房和城乡建设厅",
         "valid_until": "2028-09-01"},
        {"kind": "special_operation", "category": "04", "number": "鄂A042022000654", "issuer": "湖北省住房和城乡建设厅",
         "valid_until": "2028-09-01"}]},
]


def today_china() -> date:
    return datetime.now(CHINA_TZ).date()


def start_day(extra_workdays=1) -> date:
    return earliest_start(default_calendar(), today_china(), 2 + extra_workdays)


def register(api, username, people):
    client = api(username)
    for person in people:
        r = client.post("/api/v1/personnel", json=person)
        assert r.status_code == 201, r.get_data(as_text=True)


def crew_rows(people):
    return [{"name": p["name"], "certificate_no": c["number"]} for p in people for c in p["certificates"]][:30]


def record_number(api, crane_id):
    return api("owner_wuhan").get(f"/api/v1/cranes/{crane_id}").get_json()["record_number"]


def notice_data(api, crane_id, **overrides):
    installer = api("installer_wuhan")
    docs = {d: [upload(installer, name=f"{d}.pdf")] for d in (
        "installation_scheme", "emergency_plan", "install_contract", "safety_agreement")}
    data = {
        "record_number": record_number(api, crane_id), "project_code": "4201062026-0001", "project_name": "光谷科技园三期 3# 楼",
        "permit_number": "420106202611010101", "site_address": "武汉市武昌区中北路 88 号",
        "site_region_code": "420106", "user_uscc": uscc_of(api, "contractor_wuhan"),
        "supervisor_uscc": uscc_of(api, "supervisor_wuhan"), "planned_start": start_day().isoformat(),
        "erected_height_m": 45.5, "technical_lead": "孙建国", "safety_officer": "周安",
        "crew": [{"name": "李建国", "certificate_no": "鄂A082020000123"},
                 {"name": "王小军", "certificate_no": "鄂A042021000456"},
                 {"name": "王小军", "certificate_no": "鄂A012021000789"}],
        "documents": docs,
    }
    data.update(overrides)
    return data


@pytest.fixture
def crane(api):
    register(api, "installer_wuhan", CREW)
    return approved_crane(api, "INST-1")


def lodge(api, crane_id, **overrides):
    return api("installer_wuhan").post("/api/v1/cases", json={
        "process_key": "installation_notice", "data": notice_data(api, crane_id, **overrides)})


def task_of(api, username, case_id, name=None):
    items = api(username).get("/api/v1/tasks").get_json()["items"]
    mine = [t for t in items if t["case_id"] == case_id and (name is None or t["name"] == name)]
    assert len(mine) == 1, (username, name, items)
    return mine[0]


def complete(api, username, case_id, data, name=None, status=200):
    task = task_of(api, username, case_id, name)
    r = api(username).post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data})
    assert r.status_code == status, r.get_data(as_text=True)
    return r.get_json()


def crane_status(api, crane_id, username="owner_wuhan"):
    return api(username).get(f"/api/v1/cranes/{crane_id}").get_json()["status"]


def signoff(accepted_on, conclusion="pass", **extra):
    data = {"conclusion": conclusion, "accepted_on": accepted_on.isoformat(), "verticality_permille": 1.5,
            "measured_at": "free", "safety_devices_ok": True, "structure_ok": True, "foundation_ok": True,
            "clearance_ok": True}
    data.update(extra)
    return data


def notice_passed(api, lodged):
    """A lodged (installation or dismantling) notice passed by both parties and acknowledged."""
    assert lodged.status_code == 201, lodged.get_data(as_text=True)
    case_id = lodged.get_json()["id"]
    complete(api, "contractor_wuhan", case_id, {"decision": "pass"})
    complete(api, "supervisor_wuhan", case_id, {"decision": "pass"})
    complete(api, "reg_wuhan", case_id, {"decision": "approve"})
    return case_id


def acknowledged(api, crane_id):
    return notice_passed(api, lodge(api, crane_id))


def inspected(api, crane_id):
    case_id = acknowledged(api, crane_id)
    installer = api("installer_wuhan")
    complete(api, "installer_wuhan", case_id, {
        "inspected_on": today_china().isoformat(), "inspector_uscc": uscc_of(api, "inspector_wuhan"),
        "documents": {"self_inspection_record": [upload(installer)]}})
    inspector = api("inspector_wuhan")
    complete(api, "inspector_wuhan", case_id, {
        "report_number": "HBTJ-2026-0915", "inspected_on": today_china().isoformat(), "conclusion": "qualified",
        "documents": {"report": [upload(inspector)]}})
    return case_id


def accepted(api, crane_id, accepted_on):
    case_id = inspected(api, crane_id)
    for username in ("contractor_wuhan", "owner_wuhan", "installer_wuhan", "supervisor_wuhan"):
        complete(api, username, case_id, signoff(accepted_on))
    return case_id


def test_notice_goes_to_both_parties_then_the_project_authority(api, crane):
    r = lodge(api, crane)
    assert r.status_code == 201, r.get_data(as_text=True)
    case = r.get_json()
    assert case["title"].startswith("安装告知：鄂A-T")
    assert sorted(t["name"] for t in case["open_tasks"]) == ["contractor_review", "supervisor_review"]
    # Both parties see the case and the installer's package; others do not.
    for username in ("contractor_wuhan", "supervisor_wuhan", "owner_wuhan"):
        assert api(username).get(f"/api/v1/cases/{case['id']}").status_code == 200
    assert api("owner_yichang").get(f"/api/v1/cases/{case['id']}").status_code == 404
    scheme = notice_data(api, crane)["documents"]  # fresh uploads are the installer's own
    assert api("contractor_wuhan").get(f"/api/v1/attachments/{scheme['installation_scheme'][0]}").status_code == 404
    assert api("reg_wuhan").get("/api/v1/tasks").get_json()["items"] == []  # not before both parties pass
    complete(api, "contractor_wuhan", case["id"], {"decision": "pass"})
    complete(api, "supervisor_wuhan", case["id"], {"decision": "pass"})
    assert api("reg_yichang").get("/api/v1/tasks").get_json()["items"] == []
    complete(api, "reg_wuhan", case["id"], {"decision": "approve"})
    assert crane_status(api, crane) == "install_notified"
    assert task_of(api, "installer_wuhan", case["id"])["name"] == "self_inspection"


def test_a_party_return_sends_the_notice_back_to_the_installer(api, crane):
    case_id = lodge(api, crane).get_json()["id"]
    complete(api, "contractor_wuhan", case_id, {"decision": "pass"})
    complete(api, "supervisor_wuhan", case_id, {"decision": "return"}, status=422)
    complete(api, "supervisor_wuhan", case_id, {"decision": "return", "reason": "专项方案缺少总监签字"})
    task = task_of(api, "installer_wuhan", case_id)
    assert task["name"] == "correct_notice"
    corrected = api("installer_wuhan").get(f"/api/v1/tasks/{task['id']}").get_json()["data"]
    assert corrected["project_code"] == "4201062026-0001"  # pre-filled from the notice
    complete(api, "installer_wuhan", case_id, corrected)
    # A new round: both parties review again.
    complete(api, "contractor_wuhan", case_id, {"decision": "pass"})
    complete(api, "supervisor_wuhan", case_id, {"decision": "pass"})
    complete(api, "reg_wuhan", case_id, {"decision": "return", "reason": "应急预案不完整"})
    assert task_of(api, "installer_wuhan", case_id)["name"] == "correct_notice"
    assert crane_status(api, crane) == "filed"


def test_notice_refusals_name_the_field_and_the_rule(api, crane):
    too_soon = today_china() + timedelta(days=1)
    r = lodge(api, crane, planned_start=too_soon.isoformat())
    assert r.status_code == 422
    assert r.get_json()["errors"]["planned_start"][0].startswith("告知应在安装前至少 2 个工作日提交")
    r = lodge(api, crane, crew=[{"name": "李建国", "certificate_no": "鄂A082020000123"}])
    assert r.status_code == 422 and "起重信号司索工" in r.get_json()["errors"]["crew"][0]
    r = lodge(api, crane, crew=[{"name": "张三", "certificate_no": "鄂A082020000123"}])
    assert r.status_code == 422 and "0" in r.get_json()["errors"]["crew"]
    r = lodge(api, crane, supervisor_uscc=uscc_of(api, "owner_yichang"))
    assert r.status_code == 422 and r.get_json()["errors"]["supervisor_uscc"] == ["该企业未申报为监理单位。"]
    r = lodge(api, crane, erected_height_m=210)
    assert r.status_code == 422 and "expert_review_conclusion" in r.get_json()["errors"]
    expert = notice_data(api, crane, erected_height_m=210, expert_review_conclusion="pass")
    expert["documents"]["expert_review_record"] = [upload(api("installer_wuhan"))]
    r = api("installer_wuhan").post("/api/v1/cases", json={"process_key": "installation_notice", "data": expert})
    assert r.status_code == 201, r.get_data(as_text=True)
    again = lodge(api, crane)
    assert again.status_code == 409  # one notice per crane at a time


def test_expired_crew_certificate_is_refused(api, crane):
    expired = {"name": "钱老五", "id_number": "420106197001010010", "certificates": [
        {"kind": "special_operation", "category": "08", "number": "鄂A082018000999", "issuer": "湖北省住房和城乡建设厅",
         "valid_until": (start_day() - timedelta(days=1)).isoformat()}]}
    register(api, "installer_wuhan", [expired])
    r = lodge(api, crane, crew=[{"name": "钱老五", "certificate_no": "鄂A082018000999"},
                                {"name": "王小军", "certificate_no": "鄂A042021000456"},
                                {"name": "王小军", "certificate_no": "鄂A012021000789"}])
    assert r.status_code == 422
    assert r.get_json()["errors"]["crew"]["0"]["certificate_no"] == ["证书 鄂A082018000999 在计划作业日期已过期。"]


def test_only_a_filed_idle_crane_can_be_notified(api, crane):
    acknowledged(api, crane)
    r = lodge(api, crane, project_code="4201062026-0002")
    assert r.status_code == 422
    assert r.get_json()["errors"]["record_number"] == ["该设备尚未拆卸，仍在工程上安装或使用，须先办理拆卸告知。"]


def test_failed_inspection_and_acceptance_loop_back(api, crane):
    case_id = acknowledged(api, crane)
    installer, inspector = api("installer_wuhan"), api("inspector_wuhan")
    complete(api, "installer_wuhan", case_id, {
        "inspected_on": today_china().isoformat(), "inspector_uscc": uscc_of(api, "inspector_wuhan"),
        "documents": {"self_inspection_record": [upload(installer)]}})
    assert crane_status(api, crane) == "self_inspected"
    report = {"report_number": "HBTJ-2026-0001", "inspected_on": today_china().isoformat(),
              "conclusion": "unqualified", "documents": {"report": [upload(inspector)]}}
    complete(api, "inspector_wuhan", case_id, report, status=422)  # findings required
    complete(api, "inspector_wuhan", case_id, {**report, "findings": "起升高度限位器失效"})
    assert crane_status(api, crane) == "self_inspected"
    complete(api, "installer_wuhan", case_id, {"measures": "更换起升高度限位器并调试"}, name="rectify_inspection")
    complete(api, "inspector_wuhan", case_id, {**report, "conclusion": "qualified", "report_number": "HBTJ-2026-0002"})
    assert crane_status(api, crane) == "inspected"
    day = today_china()
    # A pass with the verticality over 4‰ is contradictory and refused.
    r = complete(api, "contractor_wuhan", case_id, signoff(day, verticality_permille=4.5), status=422)
    assert r["errors"]["verticality_permille"] == ["垂直度偏差超过 4.0‰，不能验收合格。"]
    complete(api, "contractor_wuhan", case_id, signoff(day))
    complete(api, "owner_wuhan", case_id, signoff(day, conclusion="fail", reason="标准节螺栓缺失"))
    complete(api, "installer_wuhan", case_id, signoff(day))
    complete(api, "supervisor_wuhan", case_id, signoff(day))
    assert crane_status(api, crane) == "inspected"
    complete(api, "installer_wuhan", case_id, {"measures": "补齐标准节螺栓"}, name="rectify_acceptance")
    for username in ("contractor_wuhan", "owner_wuhan", "installer_wuhan", "supervisor_wuhan"):
        complete(api, username, case_id, signoff(day))
    assert crane_status(api, crane) == "accepted"
    case = api("installer_wuhan").get(f"/api/v1/cases/{case_id}").get_json()
    assert case["status"] == "completed" and case["outcome"] == "accepted"


def test_acceptance_opens_use_registration_for_the_user(api, crane):
    register(api, "contractor_wuhan", OPERATORS)
    accepted(api, crane, today_china())
    items = api("contractor_wuhan").get("/api/v1/tasks").get_json()["items"]
    (apply,) = [t for t in items if t["name"] == "apply_registration"]
    assert apply["process_key"] == "use_registration"
    contractor = api("contractor_wuhan")
    docs = {d: [upload(contractor)] for d in ("lease_contract", "management_rules", "emergency_plan")}
    application = {"crane_id": crane, "equipment_manager": "黄河",
                   "operators": [{"name": "赵大勇", "certificate_no": "鄂A052022000321"}], "documents": docs}
    r = contractor.post(f"/api/v1/tasks/{apply['id']}/complete", json={"data": application})
    assert r.status_code == 422 and "起重信号司索工" in r.get_json()["errors"]["operators"][0]
    application["operators"].append({"name": "赵大勇", "certificate_no": "鄂A042022000654"})
    r = contractor.post(f"/api/v1/tasks/{apply['id']}/complete", json={"data": application})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert crane_status(api, crane) == "registration_pending"
    case_id = apply["case_id"]
    complete(api, "reg_wuhan", case_id, {"decision": "return", "reason": "租赁合同未盖章"})
    assert crane_status(api, crane) == "accepted"
    complete(api, "contractor_wuhan", case_id, application)
    complete(api, "reg_wuhan", case_id, {"decision": "approve"})
    crane_json = api("owner_wuhan").get(f"/api/v1/cranes/{crane}").get_json()
    assert crane_json["status"] == "in_use"
    assert crane_json["use_registration_no"].startswith(f"鄂A-TDJ{today_china().year}")


def _events(world, case_id):
    with Session(world.engine) as s:
        return s.scalars(select(AuditEvent.action).where(AuditEvent.instance_id == case_id)
                         .order_by(AuditEvent.id)).all()


def test_registration_timers_are_swept_in_order(world, api, crane, monkeypatch):
    """The reminder and the overdue mark wait as timers and are fired by the sweep, once each."""
    from engine.services import use_registration

    def soon(accepted_on):
        now = datetime.now(CHINA_TZ)
        return now + timedelta(seconds=1), now + timedelta(seconds=2)

    monkeypatch.setattr(use_registration, "registration_timers", soon)
    accepted(api, crane, today_china())
    with Session(world.engine) as s:
        case = s.scalar(select(ProcessInstance).where(ProcessInstance.process_key == "use_registration"))
        case_id, first_due = case.id, case.next_due_at
    assert fire_due_timers(world.engine) == 0  # nothing due yet
    time.sleep(max(0.0, (first_due - datetime.now(CHINA_TZ)).total_seconds()) + 0.05)
    assert fire_due_timers(world.engine) == 1
    events = _events(world, case_id)
    assert "registration_reminder" in events and "overdue" not in events
    time.sleep(1.1)
    assert fire_due_timers(world.engine) == 1
    assert fire_due_timers(world.engine) == 0
    events = _events(world, case_id)
    assert events.count("registration_reminder") == 1 and events.count("overdue") == 1
    with Session(world.engine) as s:
        case = s.get(ProcessInstance, case_id)
        assert case.overdue_since is not None and case.next_due_at is None
        open_tasks = s.scalars(select(HumanTask.task_name).where(
            HumanTask.instance_id == case_id, HumanTask.status == "open")).all()
    assert open_tasks == ["apply_registration"]  # non-interrupting: the application stays open


def test_acceptance_dates_set_the_registration_timers(world, api, crane):
    # 25 days after acceptance the day-20 reminder is already due; the overdue mark waits for day 31.
    accepted(api, crane, today_china() - timedelta(days=25))
    with Session(world.engine) as s:
        case = s.scalar(select(ProcessInstance).where(ProcessInstance.process_key == "use_registration"))
        assert case.overdue_since is None
        due = case.next_due_at.astimezone(CHINA_TZ)
        case_id = case.id
    assert (due.date(), due.hour) == (today_china() + timedelta(days=6), 0)
    assert "registration_reminder" in _events(world, case_id)


def test_late_acceptance_is_marked_overdue_and_late_registration_flagged(world, api, crane):
    register(api, "contractor_wuhan", OPERATORS)
    accepted(api, crane, today_china() - timedelta(days=31))
    fire_due_timers(world.engine)
    with Session(world.engine) as s:
        case = s.scalar(select(ProcessInstance).where(ProcessInstance.process_key == "use_registration"))
        assert case.overdue_since is not None
        case_id = case.id
    events = _events(world, case_id)
    assert events.count("overdue") == 1 and events.count("registration_reminder") == 1
    contractor = api("contractor_wuhan")
    docs = {d: [upload(contractor)] for d in ("lease_contract", "management_rules", "emergency_plan")}
    complete(api, "contractor_wuhan", case_id, {
        "crane_id": crane, "equipment_manager": "黄河", "documents": docs,
        "operators": [{"name": "赵大勇", "certificate_no": "鄂A052022000321"},
                      {"name": "赵大勇", "certificate_no": "鄂A042022000654"}]})
    assert "registration_late" in _events(world, case_id)


def registered(api, crane_id):
    register(api, "contractor_wuhan", OPERATORS)
    accepted(api, crane_id, today_china())
    contractor = api("contractor_wuhan")
    apply = next(t for t in contractor.get("/api/v1/tasks").get_json()["items"] if t["name"] == "apply_registration")
    docs = {d: [upload(contractor)] for d in ("lease_contract", "management_rules", "emergency_plan")}
    complete(api, "contractor_wuhan", apply["case_id"], {
        "crane_id": crane_id, "equipment_manager": "黄河", "documents": docs,
        "operators": [{"name": "赵大勇", "certificate_no": "鄂A052022000321"},
                      {"name": "赵大勇", "certificate_no": "鄂A042022000654"}]})
    complete(api, "reg_wuhan", apply["case_id"], {"decision": "approve"})
    assert crane_status(api, crane_id) == "in_use"


def dismantling_data(api, crane_id, **overrides):
    installer = api("installer_wuhan")
    data = {"record_number": record_number(api, crane_id), "planned_start": start_day().isoformat(),
            "erected_height_m": 45.5,
            "technical_lead": "孙建国", "safety_officer": "周安",
            "crew": notice_data(api, crane_id)["crew"],
            "documents": {d: [upload(installer)] for d in ("dismantling_scheme", "emergency_plan", "safety_agreement")}}
    data.update(overrides)
    return data


def refit(api, crane_id):
    """The owner's maintenance of a dismantled crane before it goes up on the next site."""
    r = api("owner_wuhan").post(f"/api/v1/cranes/{crane_id}/operations", json={
        "kind": "maintenance", "performed_on": today_china().isoformat(), "person_in_charge": "黄河",
        "summary": "转场保养"})
    assert r.status_code == 201, r.get_data(as_text=True)


def test_dismantling_cancels_the_registration_and_returns_the_crane_to_idle(api, crane):
    installer = api("installer_wuhan")
    r = installer.post("/api/v1/cases", json={"process_key": "dismantling_notice", "data": dismantling_data(api, crane)})
    assert r.status_code == 422  # a filed, idle crane has nothing to dismantle
    assert r.get_json()["errors"]["record_number"] == ["该设备当前状态不能办理此业务。"]
    registered(api, crane)
    r = installer.post("/api/v1/cases", json={"process_key": "dismantling_notice", "data": dismantling_data(api, crane)})
    assert r.status_code == 201, r.get_data(as_text=True)
    case_id = r.get_json()["id"]
    crane_json = api("owner_wuhan").get(f"/api/v1/cranes/{crane}").get_json()
    assert crane_json["status"] == "dismantle_notified" and crane_json["use_registration_no"] is None
    complete(api, "contractor_wuhan", case_id, {"decision": "pass"})
    complete(api, "supervisor_wuhan", case_id, {"decision": "pass"})
    complete(api, "reg_wuhan", case_id, {"decision": "return", "reason": "拆卸方案未附群塔作业措施"})
    assert crane_status(api, crane) == "dismantle_notified"
    task = task_of(api, "installer_wuhan", case_id)
    data = installer.get(f"/api/v1/tasks/{task['id']}").get_json()["data"]
    complete(api, "installer_wuhan", case_id, data)
    complete(api, "contractor_wuhan", case_id, {"decision": "pass"})
    complete(api, "supervisor_wuhan", case_id, {"decision": "pass"})
    complete(api, "reg_wuhan", case_id, {"decision": "approve"})
    crane_json = api("owner_wuhan").get(f"/api/v1/cranes/{crane}").get_json()
    assert (crane_json["status"], crane_json["project"]) == ("filed", None)
    # Idle again: after its refit maintenance the next site can be notified.
    refit(api, crane)
    r = lodge(api, crane, project_code="4201062026-0009")
    assert r.status_code == 201, r.get_data(as_text=True)


def test_expired_installer_licence_and_over_age_crane_are_refused(world, api, crane):
    from engine.db import Crane, Enterprise

    installer_id = world.user("installer_wuhan").enterprise_id
    with Session(world.engine) as s:
        s.get(Enterprise, installer_id).safety_licence_valid_until = today_china()
        s.commit()
    r = lodge(api, crane)
    assert r.status_code == 422
    assert r.get_json()["errors"]["_schema"] == ["安装单位的安全生产许可证缺失或在计划安装日期已过期。"]
    with Session(world.engine) as s:
        s.get(Enterprise, installer_id).safety_licence_valid_until = date(2030, 1, 1)
        # Past the 15-year JGJ/T 189 age of a 630–1250 kN·m tower crane, with no assessment on file.
        s.get(Crane, crane).manufacture_date = today_china().replace(year=today_china().year - 16)
        s.commit()
    r = lodge(api, crane)
    assert r.status_code == 422
    assert r.get_json()["errors"]["record_number"] == [
        "该设备已超过安全评估年限，须提供有效期内结论为合格的安全评估报告。"]
