"""Record cancellation: only an idle filed crane, reviewed by the filing authority; a transfer frees
the crane's identity so the transferee can file it anew."""
from engine.domain.lifecycle import REFUSAL_MESSAGES
from engine.domain.uscc import uscc_check_char
from tests.helpers import filing_data, open_task_id, start_filing


def _filed_crane(api, serial):
    owner, reg = api("owner_wuhan"), api("reg_wuhan")
    case = start_filing(owner, serial=serial)
    r = reg.post(f"/api/v1/tasks/{open_task_id(case)}/complete", json={"data": {"decision": "approve"}})
    assert r.status_code == 200
    return case["subject"]["id"]


def _request(api, crane_id, **extra):
    owner = api("owner_wuhan")
    return owner.post("/api/v1/cases", json={"process_key": "record_cancellation",
                                             "data": {"crane_id": crane_id, "reason": "scrapped", **extra}})


def test_scrapped_crane_is_cancelled_after_approval(api):
    crane_id = _filed_crane(api, "CANCEL-1")
    r = _request(api, crane_id, remarks="结构件严重锈蚀，已报废")
    assert r.status_code == 201, r.get_data(as_text=True)
    case = r.get_json()
    assert case["title"].startswith("备案注销（报废）")
    assert api("reg_yichang").get("/api/v1/tasks").get_json()["items"] == []
    reg = api("reg_wuhan")
    task = reg.get(f"/api/v1/tasks/{open_task_id(case)}").get_json()
    assert task["form_schema"]["properties"]["decision"]["x-labels"]["approve"] == "同意"
    r = reg.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"decision": "approve"}})
    assert r.get_json()["outcome"] == "approved"
    crane = api("owner_wuhan").get(f"/api/v1/cranes/{crane_id}").get_json()
    assert crane["status"] == "cancelled"
    again = _request(api, crane_id)
    assert again.status_code == 422
    assert again.get_json()["errors"]["crane_id"] == [REFUSAL_MESSAGES["cancelled"][0]]


def test_crane_under_review_cannot_be_cancelled(api):
    case = start_filing(api("owner_wuhan"), serial="CANCEL-2")
    r = _request(api, case["subject"]["id"])
    assert r.status_code == 422 and "crane_id" in r.get_json()["errors"]


def test_other_owners_crane_is_refused(api):
    crane_id = _filed_crane(api, "CANCEL-3")
    r = api("owner_yichang").post("/api/v1/cases", json={"process_key": "record_cancellation",
                                                        "data": {"crane_id": crane_id, "reason": "scrapped"}})
    assert r.status_code == 422 and r.get_json()["errors"]["crane_id"] == ["该设备不存在或不属于本单位。"]


def test_transfer_needs_transferee_and_frees_the_identity_for_the_new_owner(api):
    crane_id = _filed_crane(api, "CANCEL-4")
    r = _request(api, crane_id, reason="transfer")
    assert r.status_code == 422 and set(r.get_json()["errors"]) == {"transferee_name", "transferee_uscc"}
    yichang = api("owner_yichang")
    first17 = "91420502MA48Y3C03"
    r = _request(api, crane_id, reason="transfer", transferee_name="宜昌三峡起重机械租赁有限公司",
                 transferee_uscc=first17 + uscc_check_char(first17))
    assert r.status_code == 201, r.get_data(as_text=True)
    reg = api("reg_wuhan")
    reg.post(f"/api/v1/tasks/{open_task_id(r.get_json())}/complete", json={"data": {"decision": "approve"}})
    assert yichang.get(f"/api/v1/cranes/{crane_id}").status_code == 404  # not before it files the crane
    # The transferee files the same crane (same manufacturer, model, serial) anew …
    r = yichang.post("/api/v1/cases", json={"process_key": "crane_registration",
                                            "data": filing_data(yichang, serial="CANCEL-4")})
    assert r.status_code == 201, r.get_data(as_text=True)
    # … and the old record, with its safety technical archive, is handed over to it.
    new = yichang.get(f"/api/v1/cranes/{r.get_json()['subject']['id']}").get_json()
    assert new["predecessor_id"] == crane_id
    old = yichang.get(f"/api/v1/cranes/{crane_id}")
    assert old.status_code == 200 and old.get_json()["status"] == "cancelled"
    assert crane_id in [c["id"] for c in yichang.get("/api/v1/cranes").get_json()["items"]]
    archive = yichang.get(f"/api/v1/cranes/{crane_id}/archive")
    assert archive.status_code == 200 and archive.get_json()["timeline"]
    # Another enterprise filing a crane with the same identity gets no hand-over.
    assert api("installer_wuhan").get(f"/api/v1/cranes/{crane_id}").status_code == 404


def test_a_record_cancelled_without_transfer_is_not_handed_to_a_later_filer(api):
    crane_id = _filed_crane(api, "CANCEL-6")
    r = _request(api, crane_id, reason="scrapped")
    api("reg_wuhan").post(f"/api/v1/tasks/{open_task_id(r.get_json())}/complete", json={"data": {"decision": "approve"}})
    yichang = api("owner_yichang")
    r = yichang.post("/api/v1/cases", json={"process_key": "crane_registration",
                                            "data": filing_data(yichang, serial="CANCEL-6")})
    assert r.status_code == 201
    assert yichang.get(f"/api/v1/cranes/{r.get_json()['subject']['id']}").get_json()["predecessor_id"] is None
    assert yichang.get(f"/api/v1/cranes/{crane_id}").status_code == 404


def test_return_and_reject_leave_the_crane_filed(api):
    crane_id = _filed_crane(api, "CANCEL-5")
    case = _request(api, crane_id).get_json()
    reg = api("reg_wuhan")
    r = reg.post(f"/api/v1/tasks/{open_task_id(case)}/complete",
                 json={"data": {"decision": "return", "reason": "请补充报废证明"}})
    task = api("owner_wuhan").get(f"/api/v1/tasks/{open_task_id(r.get_json())}").get_json()
    assert task["data"]["reason"] == "scrapped"  # pre-filled from the request
    other = _filed_crane(api, "CANCEL-6")
    r = api("owner_wuhan").post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {**task["data"], "crane_id": other}})
    assert r.status_code == 422 and r.get_json()["errors"]["crane_id"] == ["不能更换申请的设备。"]
    r = api("owner_wuhan").post(f"/api/v1/tasks/{task['id']}/complete", json={"data": task["data"]})
    assert r.status_code == 200, r.get_data(as_text=True)
    r = reg.post(f"/api/v1/tasks/{open_task_id(r.get_json())}/complete",
                 json={"data": {"decision": "reject", "reason": "设备仍在使用"}})
    assert r.get_json()["outcome"] == "rejected"
    assert api("owner_wuhan").get(f"/api/v1/cranes/{crane_id}").get_json()["status"] == "filed"
