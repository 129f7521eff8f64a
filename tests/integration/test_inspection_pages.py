"""A spot check through the pages: the regulator fills the generic form (inspector and hazard rows,
photos per hazard); the contractor's reply form lists the open hazards and shows the notice."""
import io

from tests.conftest import csrf_from
from tests.helpers import PDF
from tests.integration.test_inspection_api import MANAGER, PROJECT
from tests.integration.test_installation_api import CREW, acknowledged, register, today_china
from tests.integration.test_personnel_pages import _login
from tests.helpers import approved_crane


def test_regulator_records_a_check_and_the_contractor_replies_in_the_browser_forms(app, world, api):
    register(api, "installer_wuhan", CREW)
    register(api, "contractor_wuhan", [MANAGER])
    acknowledged(api, approved_crane(api, "PAGE-INSP-1"))
    regulator = app.test_client()
    _login(regulator, "reg_wuhan")
    home = regulator.get("/cases").get_data(as_text=True)
    assert 'data-testid="start-inspection_rectification"' in home
    r = regulator.post("/cases/start/inspection_rectification", data={"csrf_token": csrf_from(home)})
    assert r.status_code == 302 and "/tasks/" in r.location
    page = regulator.get(r.location).get_data(as_text=True)
    assert 'name="hazards.0.grade"' in page and 'name="hazards.0.photos"' in page
    form = {"csrf_token": csrf_from(page), "project_code": PROJECT, "check_date": today_china().isoformat(),
            "check_type": "special", "inspectors.0.name": "陈静", "inspectors.0.badge_no": "鄂建执 420100001",
            "inspectors.1.name": "刘洋", "inspectors.1.badge_no": "鄂建执 420100002",
            "hazards.0.description": "塔吊附着杆螺栓松动", "hazards.0.location": "3# 塔吊第二道附着",
            "hazards.0.category": "tower_cranes", "hazards.0.grade": "general",
            "instrument": "rectification", "deadline_days": "3", "signatures": "signed"}
    photo = {"hazards.0.photos": (io.BytesIO(PDF), "hazard-1.pdf")}
    done = regulator.post(r.location, data={**form, **photo}, content_type="multipart/form-data")
    assert done.status_code == 302, done.get_data(as_text=True)[:3000]

    contractor = app.test_client()
    _login(contractor, "contractor_wuhan")
    (task,) = [t for t in api("contractor_wuhan").get("/api/v1/tasks").get_json()["items"]
               if t["name"] == "reply_rectification"]
    page = contractor.get(f"/tasks/{task['id']}").get_data(as_text=True)
    # The notice is shown read-only with its photo, and the reply has one row per open hazard.
    assert "塔吊附着杆螺栓松动" in page and "hazard-1.pdf" in page
    assert 'name="items.0.hazard_no" value="1"' in page or 'value="1" name="items.0.hazard_no"' in page
    reply = {"csrf_token": csrf_from(page), "items.0.hazard_no": "1", "items.0.measure": "螺栓已全部复紧",
             "items.0.completed_on": today_china().isoformat(), "project_manager": MANAGER["name"],
             "project_manager_cert": MANAGER["certificates"][0]["number"]}
    bad = contractor.post(f"/tasks/{task['id']}", data=reply)
    assert bad.status_code == 422 and "此项为必填项" in bad.get_data(as_text=True)  # no evidence uploaded
    evidence = {"items.0.evidence": (io.BytesIO(PDF), "after.pdf")}
    reply["csrf_token"] = csrf_from(bad.get_data(as_text=True))
    ok = contractor.post(f"/tasks/{task['id']}", data={**reply, **evidence}, content_type="multipart/form-data")
    assert ok.status_code == 302, ok.get_data(as_text=True)[:3000]
    case = contractor.get(ok.location).get_data(as_text=True)
    assert "监理审核整改回复" in case
    # The case page shows the notice and each hazard with its measure and state.
    assert "鄂A整改〔" in case and "螺栓已全部复紧" in case and "未销项" in case and "一般隐患" in case
