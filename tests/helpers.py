"""Builders shared by tests: upload files and a valid crane filing."""
import io

PDF = b"%PDF-1.4\n% CraneFlow test document\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def upload(api_client, content=PDF, name="doc.pdf") -> int:
    r = api_client.post("/api/v1/attachments", data={"file": (io.BytesIO(content), name)},
                        content_type="multipart/form-data")
    assert r.status_code == 201, r.get_data(as_text=True)
    return r.get_json()["id"]


def filing_data(api_client, serial="SN-0001", **overrides) -> dict:
    docs = {d: [upload(api_client, name=f"{d}.pdf")] for d in (
        "manufacturing_licence", "product_certificate", "supervision_certificate", "ownership_proof")}
    data = {
        "crane_type": "tower_crane", "model": "QTZ80(TC5610-6)", "manufacturer": "中联重科股份有限公司",
        "manufacturing_licence_no": "TS2410001-2027", "factory_serial": serial,
        "manufacture_date": "2021-03-15", "rated_moment_knm": 800, "product_certificate_no": "HG-2021-0315",
        "supervision_certificate_no": "JJ-2021-0099", "purchase_date": "2021-05-01", "documents": docs,
    }
    data.update(overrides)
    return data


def start_filing(api_client, serial="SN-0001", **overrides) -> dict:
    """Start a filing with the owner's submission; returns the case JSON."""
    r = api_client.post("/api/v1/cases", json={"process_key": "crane_registration",
                                               "data": filing_data(api_client, serial, **overrides)})
    assert r.status_code == 201, r.get_data(as_text=True)
    return r.get_json()


def open_task_id(case_json) -> int:
    (task,) = case_json["open_tasks"]
    return task["id"]


def approved_crane(api, serial: str, **overrides) -> int:
    """A crane filed by owner_wuhan and approved by reg_wuhan; returns its id."""
    case = start_filing(api("owner_wuhan"), serial=serial, **overrides)
    r = api("reg_wuhan").post(f"/api/v1/tasks/{open_task_id(case)}/complete", json={"data": {"decision": "approve"}})
    assert r.status_code == 200, r.get_data(as_text=True)
    return case["subject"]["id"]


def wuhan_project(world, code: str, name: str) -> int:
    """A project in 武昌区 (420106) of contractor_wuhan, supervised by supervisor_wuhan, as an
    installation notice leaves it; returns its id."""
    from sqlalchemy.orm import Session

    from engine.db import Project

    with Session(world.engine) as s:
        row = Project(code=code, name=name, permit_number=f"42010620261101{code[-4:]}", address="武汉市武昌区中北路 99 号",
                      region_code="420106", user_enterprise_id=world.user("contractor_wuhan").enterprise_id,
                      supervisor_enterprise_id=world.user("supervisor_wuhan").enterprise_id)
        s.add(row)
        s.commit()
        return row.id


def uscc_of(api, username: str) -> str:
    return api(username).get("/api/v1/me").get_json()["enterprise_uscc"]
