"""The installation notice through the pages: the installer fills the generic task form (crew rows,
uploads); the general contractor sees the package read-only on its review page and passes it."""
import io
import re

from tests.conftest import csrf_from
from tests.helpers import PDF, approved_crane, uscc_of
from tests.integration.test_installation_api import CREW, register, start_day
from tests.integration.test_personnel_pages import _login


def test_installer_lodges_a_notice_and_the_contractor_reviews_it_in_the_browser_forms(app, world, api):
    register(api, "installer_wuhan", CREW)
    crane_id = approved_crane(api, "PAGE-INST-1")
    number = api("owner_wuhan").get(f"/api/v1/cranes/{crane_id}").get_json()["record_number"]
    installer = app.test_client()
    _login(installer, "installer_wuhan")
    home = installer.get("/cases").get_data(as_text=True)
    r = installer.post("/cases/start/installation_notice", data={"csrf_token": csrf_from(home)})
    assert r.status_code == 302 and "/tasks/" in r.location
    page = installer.get(r.location).get_data(as_text=True)
    assert 'name="crew.0.certificate_no"' in page and 'name="documents.installation_scheme"' in page
    files = {f"documents.{d}": (io.BytesIO(PDF), f"{d}.pdf") for d in (
        "installation_scheme", "emergency_plan", "install_contract", "safety_agreement")}
    form = {"csrf_token": csrf_from(page), "record_number": number, "project_code": "4201062026-0101",
            "project_name": "汉口滨江国际商务区 A2 地块", "permit_number": "420102202611150001",
            "site_address": "武汉市江岸区沿江大道 1 号", "site_region_code": "420102",
            "user_uscc": uscc_of(api, "contractor_wuhan"), "supervisor_uscc": uscc_of(api, "supervisor_wuhan"),
            "planned_start": start_day().isoformat(), "erected_height_m": "60", "technical_lead": "孙建国",
            "safety_officer": "周安", "crew.0.name": "李建国", "crew.0.certificate_no": "鄂A082020000123",
            "crew.1.name": "王小军", "crew.1.certificate_no": "鄂A042021000456"}
    bad = installer.post(r.location, data={**form, **files}, content_type="multipart/form-data")
    assert bad.status_code == 422
    assert "建筑电工" in bad.get_data(as_text=True)  # the 01 electrician is missing from the crew
    page = bad.get_data(as_text=True)
    form.update({"csrf_token": csrf_from(page), "crew.2.name": "王小军", "crew.2.certificate_no": "鄂A012021000789"})
    kept = {f"documents.{d}.keep": v for d, v in _kept_ids(page).items()}
    done = installer.post(r.location, data={**form, **kept})
    assert done.status_code == 302, done.get_data(as_text=True)[:2000]

    contractor = app.test_client()
    _login(contractor, "contractor_wuhan")
    inbox = api("contractor_wuhan").get("/api/v1/tasks").get_json()["items"]
    (review,) = [t for t in inbox if t["name"] == "contractor_review"]
    page = contractor.get(f"/tasks/{review['id']}").get_data(as_text=True)
    assert "汉口滨江国际商务区 A2 地块" in page and "installation_scheme.pdf" in page
    r = contractor.post(f"/tasks/{review['id']}", data={"csrf_token": csrf_from(page), "decision": "pass"})
    assert r.status_code == 302
    case = contractor.get(r.location).get_data(as_text=True)
    assert "监理单位审核" in case


def _kept_ids(page: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in re.findall(r'name="documents\.(\w+)\.keep" value="(\d+)"', page):
        found.setdefault(name, []).append(value)
    return found
