"""Crane record filing end to end through the JSON API, with role and region scoping."""
from tests.helpers import filing_data, open_task_id, start_filing


def test_owner_files_regulator_returns_owner_corrects_regulator_approves(api):
    owner, reg = api("owner_wuhan"), api("reg_wuhan")
    case = start_filing(owner)
    assert case["status"] == "running"
    assert [t["name"] for t in case["open_tasks"]] == ["review_filing"]
    review_id = open_task_id(case)

    inbox = reg.get("/api/v1/tasks").get_json()
    assert [t["id"] for t in inbox["items"]] == [review_id]
    assert inbox["items"][0]["due_at"] is not None

    r = reg.post(f"/api/v1/tasks/{review_id}/complete", json={"data": {"decision": "return", "reason": "缺少购置发票"}})
    assert r.status_code == 200, r.get_data(as_text=True)
    correct_id = open_task_id(r.get_json())
    task = owner.get(f"/api/v1/tasks/{correct_id}").get_json()
    assert task["name"] == "correct_filing"
    assert task["data"]["factory_serial"] == "SN-0001"  # pre-filled from the crane record
    assert task["form_schema"]["properties"]["crane_type"]["enum"][0] == "tower_crane"

    corrected = {**task["data"], "model": "QTZ80A"}
    r = owner.post(f"/api/v1/tasks/{correct_id}/complete", json={"data": corrected})
    assert r.status_code == 200, r.get_data(as_text=True)
    review2 = open_task_id(r.get_json())
    r = reg.post(f"/api/v1/tasks/{review2}/complete", json={"data": {"decision": "approve"}})
    assert r.status_code == 200
    done = r.get_json()
    assert done["status"] == "completed" and done["outcome"] == "approved" and done["open_tasks"] == []

    detail = owner.get(f"/api/v1/cases/{case['id']}").get_json()
    assert [e["action"] for e in detail["history"]] == ["start", "complete", "decision", "complete", "decision"]
    assert detail["history"][2]["reason"] == "缺少购置发票"
    crane = owner.get(f"/api/v1/cranes/{detail['subject']['id']}").get_json()
    assert crane["status"] == "filed" and crane["model"] == "QTZ80A"
    assert crane["record_number"].startswith("鄂A-T") and len(crane["record_number"]) == len("鄂A-T202600001")


def test_other_regions_regulator_neither_sees_nor_completes(api):
    owner, yichang = api("owner_wuhan"), api("reg_yichang")
    case = start_filing(owner)
    task_id = open_task_id(case)
    assert yichang.get("/api/v1/tasks").get_json()["items"] == []
    assert yichang.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"decision": "approve"}}).status_code == 403
    assert yichang.get(f"/api/v1/cases/{case['id']}").status_code == 404
    assert yichang.get(f"/api/v1/cranes/{case['subject']['id']}").status_code == 404
    assert api("reg_province").get("/api/v1/tasks").get_json()["total"] == 1


def test_second_completion_of_same_task_answers_409(api):
    owner, reg = api("owner_wuhan"), api("reg_wuhan")
    task_id = open_task_id(start_filing(owner))
    first = reg.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"decision": "reject", "reason": "淘汰型号"}})
    second = reg.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"decision": "reject", "reason": "淘汰型号"}})
    assert (first.status_code, second.status_code) == (200, 409)
    assert len([e for e in reg.get(f"/api/v1/cases/{first.get_json()['id']}").get_json()["history"]
                if e["action"] == "decision"]) == 1


def test_duplicate_filing_of_same_crane_is_refused(api):
    owner = api("owner_wuhan")
    start_filing(owner, serial="DUP-1")
    r = owner.post("/api/v1/cases", json={"process_key": "crane_registration",
                                          "data": filing_data(owner, serial=" dup-1 ")})
    assert r.status_code == 422
    assert "出厂编号" in r.get_json()["errors"]["factory_serial"][0]


def test_rejected_crane_can_be_filed_again(api):
    owner, reg = api("owner_wuhan"), api("reg_wuhan")
    task_id = open_task_id(start_filing(owner, serial="AGAIN-1"))
    reg.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"decision": "reject", "reason": "资料不实"}})
    assert start_filing(owner, serial="AGAIN-1")["status"] == "running"
