"""Jacking / anchorage on a crane in use: notice to the project's authority, then acceptance by the
user and the supervision firm; refused for a crane not in use and while another notice runs."""
import pytest

from tests.helpers import approved_crane, upload
from tests.integration import test_installation_api as site


@pytest.fixture
def in_use(api):
    site.register(api, "installer_wuhan", site.CREW)
    crane_id = approved_crane(api, "JACK-1")
    site.registered(api, crane_id)
    return crane_id


def jacking_data(api, crane_id, **overrides):
    installer = api("installer_wuhan")
    data = {"record_number": site.record_number(api, crane_id), "planned_start": site.start_day().isoformat(),
            "erected_height_m": 78.0, "technical_lead": "孙建国", "safety_officer": "周安",
            "crew": site.notice_data(api, crane_id)["crew"], "works": "both", "added_sections": 6,
            "documents": {"jacking_scheme": [upload(installer)], "technical_briefing": [upload(installer)]}}
    data.update(overrides)
    return data


def lodge(api, crane_id, status=201, **overrides):
    r = api("installer_wuhan").post("/api/v1/cases", json={"process_key": "jacking_notice",
                                                           "data": jacking_data(api, crane_id, **overrides)})
    assert r.status_code == status, r.get_data(as_text=True)
    return r.get_json()


def test_jacking_is_notified_then_accepted_and_the_crane_stays_in_use(api, in_use):
    case = lodge(api, in_use)
    assert case["title"].startswith("顶升/附着告知：鄂A-T")
    assert api("reg_yichang").get(f"/api/v1/cases/{case['id']}").status_code == 404
    site.complete(api, "reg_wuhan", case["id"], {"decision": "return", "reason": "方案缺少附着计算书"})
    task = site.task_of(api, "installer_wuhan", case["id"])
    assert task["name"] == "correct_jacking"
    corrected = api("installer_wuhan").get(f"/api/v1/tasks/{task['id']}").get_json()["data"]
    site.complete(api, "installer_wuhan", case["id"], corrected)
    site.complete(api, "reg_wuhan", case["id"], {"decision": "approve"})
    # A failed acceptance goes back to the installer, then both sign again.
    site.complete(api, "contractor_wuhan", case["id"], site.signoff(site.today_china()))
    site.complete(api, "supervisor_wuhan", case["id"], site.signoff(site.today_china(), conclusion="fail",
                                                                      reason="第三道附着杆未调平"))
    site.complete(api, "installer_wuhan", case["id"], {"measures": "附着杆已调平复紧"}, name="rectify_jacking")
    site.complete(api, "contractor_wuhan", case["id"], site.signoff(site.today_china()))
    site.complete(api, "supervisor_wuhan", case["id"], site.signoff(site.today_china()))
    done = api("installer_wuhan").get(f"/api/v1/cases/{case['id']}").get_json()
    assert done["status"] == "completed"
    assert "jacking_accepted" in [e["action"] for e in done["history"]]
    assert site.crane_status(api, in_use) == "in_use"


def test_jacking_refusals(api, in_use):
    errors = lodge(api, in_use, status=422, works="jacking", added_sections=None)["errors"]
    assert errors["added_sections"] == ["此项为必填项。"]
    errors = lodge(api, in_use, status=422, crew=[{"name": "李建国", "certificate_no": "鄂A082020000123"}])["errors"]
    assert "起重信号司索工" in errors["crew"][0]
    lodge(api, in_use)
    r = api("installer_wuhan").post("/api/v1/cases", json={"process_key": "jacking_notice",
                                                           "data": jacking_data(api, in_use)})
    assert r.status_code == 409  # one notice at a time on a crane
    # A crane that is filed but not in use cannot be jacked.
    idle = approved_crane(api, "JACK-2")
    errors = lodge(api, idle, status=422)["errors"]
    assert errors["record_number"] == ["该设备当前状态不能办理此业务。"]
