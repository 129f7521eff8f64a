"""The project ledger (项目台账) through the API: what a notice puts on it, who sees it, the cases that
follow the crane, and the regulator's 在建 / 完工 mark with its refusals."""
import io
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import AuditEvent, Project
from forms import t
from tests.helpers import approved_crane
from tests.integration import test_inspection_api as checks
from tests.integration.test_installation_api import (CREW, acknowledged, complete, dismantling_data, lodge, notice_passed,
                                                     record_number, refit, register, registered, today_china,
                                                     uscc_of)

CODE = "4201062026-0001"


@pytest.fixture
def crane(api):
    register(api, "installer_wuhan", CREW)
    return approved_crane(api, "LEDGER-1")


def project_id(world, code=CODE) -> int:
    with Session(world.engine) as s:
        return s.scalar(select(Project.id).where(Project.code == code))


def ledger(api, username, pid, **kw):
    r = api(username).get(f"/api/v1/projects/{pid}", **kw)
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()


def dismantled(api, crane_id):
    """An in-use crane dismantled and off the site, filed and idle again, and maintained for the next."""
    case_id = notice_passed(api, api("installer_wuhan").post("/api/v1/cases", json={
        "process_key": "dismantling_notice", "data": dismantling_data(api, crane_id)}))
    refit(api, crane_id)
    return case_id


def _pdf(api, username):
    r = api(username).post("/api/v1/attachments", data={"file": (io.BytesIO(b"%PDF-1.4 ledger"), "f.pdf")},
                           content_type="multipart/form-data")
    assert r.status_code == 201
    return r.get_json()["id"]


def set_status(api, username, pid, status, reason="", **kw):
    return api(username).post(f"/api/v1/projects/{pid}/status", json={"status": status, "reason": reason}, **kw)


def test_a_notice_puts_the_project_its_parties_crane_and_crew_on_the_ledger(api, world, crane):
    case_id = acknowledged(api, crane)
    pid = project_id(world)
    listed = api("reg_wuhan").get("/api/v1/projects").get_json()
    assert listed["total"] == 1 and [p["id"] for p in listed["items"]] == [pid]
    assert listed["items"][0]["status"] == "under_construction" and listed["items"][0]["status_label"] == "在建"
    body = ledger(api, "reg_wuhan", pid)
    assert (body["code"], body["name"], body["region_code"]) == (CODE, "光谷科技园三期 3# 楼", "420106")
    parties = {(p["role"], p["enterprise"]["uscc"]) for p in body["parties"]}
    assert parties == {("user", uscc_of(api, "contractor_wuhan")), ("supervisor", uscc_of(api, "supervisor_wuhan")),
                       ("installer", uscc_of(api, "installer_wuhan")), ("owner", uscc_of(api, "owner_wuhan"))}
    (on_site,) = body["cranes"]
    assert (on_site["id"], on_site["on_site"], on_site["status"]) == (crane, True, "install_notified")
    assert on_site["status_label"] == "已告知（安装中）" and on_site["record_number"] == record_number(api, crane)
    assert [(c["id"], c["process_key"], c["procedure"]) for c in body["cases"]] == [
        (case_id, "installation_notice", "建筑起重机械安装告知与验收")]
    crew = {(p["name"], p["certificate_no"]): p for p in body["personnel"]}
    erector = crew[("李建国", "鄂A082020000123")]
    assert erector["category"] == "08" and erector["valid_until"] == "2028-06-01" and not erector["expired"]
    assert erector["duties"] == ["作业人员"] and erector["case_ids"] == [case_id]
    assert crew[("孙建国", None)]["duties"] == ["安装单位技术负责人"]
    assert {("王小军", "鄂A042021000456"), ("王小军", "鄂A012021000789"), ("周安", None)} <= set(crew)
    assert body["inspections"] == [] and body["open_hazards"] == [] and body["status_history"] == []
    english = ledger(api, "reg_wuhan", pid, headers={"Accept-Language": "en"})
    assert english["status_label"] == "Under construction"
    assert english["cranes"][0]["status_label"] == "Installation notified (installing)"


def test_who_sees_the_project(api, world, crane):
    case_id = acknowledged(api, crane)
    pid = project_id(world)
    seeing = {"admin", "reg_wuhan", "reg_province", "installer_wuhan", "contractor_wuhan", "supervisor_wuhan",
              "owner_wuhan"}
    for username in seeing | {"reg_yichang", "owner_yichang", "inspector_wuhan"}:
        listed = api(username).get("/api/v1/projects").get_json()
        detail = api(username).get(f"/api/v1/projects/{pid}")
        if username in seeing:
            assert listed["total"] == 1 and detail.status_code == 200, username
        else:
            assert listed == {"items": [], "total": 0, "page": 1}, username
            assert detail.status_code == 404 and detail.get_json()["error"] == "not_found", username
    # The inspection body sees the project once the self-inspection names it on the notice.
    complete(api, "installer_wuhan", case_id, {
        "inspected_on": today_china().isoformat(), "inspector_uscc": uscc_of(api, "inspector_wuhan"),
        "documents": {"self_inspection_record": [_pdf(api, "installer_wuhan")]}})
    body = ledger(api, "inspector_wuhan", pid)
    assert ("inspector", uscc_of(api, "inspector_wuhan")) in {(p["role"], p["enterprise"]["uscc"]) for p in body["parties"]}
    assert api("inspector_wuhan").get("/api/v1/projects").get_json()["total"] == 1
    assert api("reg_yichang").get("/api/v1/projects/999999").status_code == 404


def test_later_cases_follow_the_crane_and_completion_waits_for_the_dismantling(api, world, crane):
    registered(api, crane)
    pid = project_id(world)
    body = ledger(api, "reg_wuhan", pid)
    assert [c["process_key"] for c in body["cases"]] == ["installation_notice", "use_registration"]
    notice, registration = (c["id"] for c in body["cases"])
    assert body["cranes"][0]["status"] == "in_use" and body["cranes"][0]["use_registration_no"]
    operators = {(p["name"], p["certificate_no"]): p for p in body["personnel"]}
    assert operators[("赵大勇", "鄂A052022000321")]["duties"] == ["司机及信号司索工"]
    assert operators[("赵大勇", "鄂A052022000321")]["case_ids"] == [registration]
    assert operators[("黄河", None)]["duties"] == ["专职设备管理人员"]
    # The crane stands on the site: 完工 is refused, naming it, in the request's language.
    r = set_status(api, "reg_wuhan", pid, "completed", "主体结构封顶")
    assert r.status_code == 409
    assert r.get_json()["message"] == t("project_cranes_on_site", "zh_CN", cranes=record_number(api, crane))
    r = set_status(api, "reg_wuhan", pid, "completed", headers={"Accept-Language": "en"})
    assert r.status_code == 409 and r.get_json()["message"].startswith("Cranes are still installed on this project")
    assert api("reg_wuhan").post(f"/api/v1/projects/{pid}/status?lang=en", json={"status": "completed"}).get_json()[
        "message"] == t("project_cranes_on_site", "en", cranes=record_number(api, crane))
    dismantling = dismantled(api, crane)
    body = ledger(api, "reg_wuhan", pid)
    assert [c["id"] for c in body["cases"]] == [notice, registration, dismantling]
    assert [(c["on_site"], c["status"]) for c in body["cranes"]] == [(False, "filed")]
    # The owner is no party of the use registration: that case and the crew it names stay hidden.
    owners = ledger(api, "owner_wuhan", pid)
    assert [c["id"] for c in owners["cases"]] == [notice, dismantling]
    assert "赵大勇" not in {p["name"] for p in owners["personnel"]} and "李建国" in {p["name"] for p in owners["personnel"]}
    # The crane moves on to another site: its new notice belongs to the new project only.
    second = lodge(api, crane, project_code="4201062026-0009", project_name="武昌滨江商务区 B2 地块")
    assert second.status_code == 201, second.get_data(as_text=True)
    assert [c["id"] for c in ledger(api, "reg_wuhan", pid)["cases"]] == [notice, registration, dismantling]
    other = ledger(api, "reg_wuhan", project_id(world, "4201062026-0009"))
    assert [c["id"] for c in other["cases"]] == [second.get_json()["id"]]
    assert [c["id"] for c in other["cranes"]] == [crane]
    # Off the site and no hazard open: the authority marks the project 完工, once, with an audit event.
    r = set_status(api, "reg_province", pid, "completed", "竣工验收备案")
    assert r.status_code == 200, r.get_data(as_text=True)
    assert (r.get_json()["status"], r.get_json()["status_label"]) == ("completed", "完工")
    assert set_status(api, "reg_wuhan", pid, "completed").status_code == 200  # no change, no second event
    history = ledger(api, "reg_wuhan", pid)["status_history"]
    assert [(e["from_state"], e["to_state"], e["reason"], e["actor"]) for e in history] == [
        ("under_construction", "completed", "竣工验收备案", "周敏（湖北省住房和城乡建设厅）")]
    completed = api("reg_wuhan").get("/api/v1/projects?status=completed").get_json()
    assert [p["code"] for p in completed["items"]] == [CODE]
    assert [p["code"] for p in api("reg_wuhan").get("/api/v1/projects?status=under_construction").get_json()["items"]] == [
        "4201062026-0009"]


def test_open_hazards_are_listed_with_deadlines_and_block_completion(api, world, crane):
    registered(api, crane)
    dismantled(api, crane)
    register(api, "contractor_wuhan", [checks.MANAGER])
    pid = project_id(world)
    # A spot check recorded ten days late: its five-day deadline has already passed.
    checked_on = today_china() - timedelta(days=10)
    case_id = checks.start_check(api, check_date=checked_on.isoformat())["id"]
    body = ledger(api, "reg_wuhan", pid)
    assert [c["process_key"] for c in body["cases"]][-1] == "inspection_rectification"
    (inspection,) = body["inspections"]
    assert (inspection["case_id"], inspection["status"], inspection["check_date"]) == (case_id, "open", checked_on.isoformat())
    assert inspection["notice_number"] == f"鄂A整改〔{checked_on.year}〕00001号"
    deadline = (checked_on + timedelta(days=5)).isoformat()
    assert [(h["seq"], h["description"], h["deadline_on"], h["overdue"]) for h in body["open_hazards"]] == [
        (1, "标准节连接螺栓缺失 2 颗", deadline, True), (2, "临边防护缺失", deadline, True)]
    assert ledger(api, "contractor_wuhan", pid)["open_hazards"] == body["open_hazards"]
    r = set_status(api, "reg_wuhan", pid, "completed")
    assert r.status_code == 409 and r.get_json()["message"] == t("project_open_hazards", "zh_CN", n=2)
    # Rectified, countersigned and passed on re-inspection: nothing open, the project may be completed.
    checks.reply(api, case_id)
    complete(api, "supervisor_wuhan", case_id, {"decision": "pass", "chief_supervisor": "吴总监"})
    complete(api, "reg_wuhan2", case_id, checks.reinspection([(1, "pass"), (2, "pass")]))
    body = ledger(api, "reg_wuhan", pid)
    assert body["open_hazards"] == [] and body["inspections"][0]["status"] == "closed"
    assert set_status(api, "reg_wuhan", pid, "completed").status_code == 200


@pytest.mark.parametrize(("username", "status"), [
    ("contractor_wuhan", 403), ("supervisor_wuhan", 403), ("installer_wuhan", 403), ("admin", 403),
    ("reg_yichang", 404), ("owner_yichang", 404), ("reg_wuhan", 200), ("reg_province", 200)])
def test_only_the_projects_authority_sets_its_status(api, world, crane, username, status):
    acknowledged(api, crane)
    pid = project_id(world)
    r = set_status(api, username, pid, "under_construction", "复工")
    assert r.status_code == status, r.get_data(as_text=True)
    if status == 403:
        assert r.get_json()["message"] == t("project_status_not_permitted", "zh_CN")
    with Session(world.engine) as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "project_status")).all()
        assert s.get(Project, pid).status == "under_construction" and events == []


@pytest.mark.parametrize(("body", "field"), [
    ({"status": "finished"}, "status"), ({}, "status"), ({"status": "completed", "reason": "x" * 501}, "reason"),
    ({"status": "completed", "when": "now"}, "when"), ({"status": 1}, "status")])
def test_invalid_status_bodies_name_the_field(api, world, crane, body, field):
    acknowledged(api, crane)
    pid = project_id(world)
    r = api("reg_wuhan").post(f"/api/v1/projects/{pid}/status", json=body)
    assert r.status_code == 422 and field in r.get_json()["errors"], r.get_data(as_text=True)
    assert api("reg_wuhan").post(f"/api/v1/projects/{pid}/status", data="[]",
                                 content_type="application/json").status_code == 422


def test_search_and_paging(api, world, crane):
    acknowledged(api, crane)
    reg = api("reg_wuhan")
    for q, expected in (("光谷", [CODE]), ("2026-0001", [CODE]), ("GUANGGU", []), ("%", []), ("_", [])):
        assert [p["code"] for p in reg.get("/api/v1/projects", query_string={"q": q}).get_json()["items"]] == expected, q
    assert reg.get("/api/v1/projects?per_page=1&page=2").get_json() == {"items": [], "total": 1, "page": 2}
    r = reg.get("/api/v1/projects?status=finished")
    assert r.status_code == 422 and "status" in r.get_json()["errors"]
    assert reg.get("/api/v1/projects?per_page=101").status_code == 422


def test_a_project_outside_the_region_is_returned_and_the_next_notice_corrects_it(world, api, crane):
    """reg_wuhan returns a project that lies in Yichang; the installer's next notice names 宜昌 西陵区
    and the project moves there: reg_yichang now keeps it and reg_wuhan no longer sees it."""
    r = lodge(api, crane)
    assert r.status_code == 201, r.get_data(as_text=True)
    pid = project_id(world)
    case_id = r.get_json()["id"]
    complete(api, "contractor_wuhan", case_id, {"decision": "pass"})
    complete(api, "supervisor_wuhan", case_id, {"decision": "pass"})
    r = set_status(api, "reg_wuhan", pid, "returned")
    assert r.status_code == 422 and r.get_json()["errors"]["reason"] == [
        "退回非本辖区项目时须说明理由（例如项目实际所在区县）。"]
    complete(api, "reg_wuhan", case_id, {"decision": "return", "reason": "项目位于宜昌市西陵区，不属本辖区"})
    assert set_status(api, "reg_yichang", pid, "returned", "x").status_code == 404
    r = set_status(api, "reg_wuhan", pid, "returned", "项目位于宜昌市西陵区")
    assert r.status_code == 200 and r.get_json()["status"] == "returned"
    installer = api("installer_wuhan")
    task = installer.get("/api/v1/tasks").get_json()["items"][0]
    data = installer.get(f"/api/v1/tasks/{task['id']}").get_json()["data"]
    r = installer.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {
        **data, "site_region_code": "420502", "site_address": "宜昌市西陵区夷陵大道 1 号"}})
    assert r.status_code == 200, r.get_data(as_text=True)
    body = ledger(api, "reg_yichang", pid)
    assert body["status"] == "under_construction" and body["region_code"] == "420502"
    last = body["status_history"][-1]
    assert (last["from_state"], last["to_state"]) == ("returned", "under_construction")
    assert last["reason"].startswith("告知 ") and last["reason"].endswith("西陵区（420502）")
    assert api("reg_wuhan").get(f"/api/v1/projects/{pid}").status_code == 404
    complete(api, "contractor_wuhan", case_id, {"decision": "pass"})
    complete(api, "supervisor_wuhan", case_id, {"decision": "pass"})
    complete(api, "reg_yichang", case_id, {"decision": "approve"})


def test_a_project_with_a_crane_on_it_is_not_returned(world, api, crane):
    acknowledged(api, crane)
    r = set_status(api, "reg_wuhan", project_id(world), "returned", "不属本辖区")
    assert r.status_code == 409 and r.get_json()["message"].startswith("项目上仍有安装中的设备")
