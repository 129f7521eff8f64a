"""The public verification portal in a browser, not logged in: look up a filed crane by its record
number and see its public facts and certificate. Writes docs/screenshots/verify-portal.png."""
import pytest
from playwright.sync_api import expect

from tests.e2e.test_crane_filing_walkthrough import DOCUMENTS, PASSWORD

pytestmark = pytest.mark.e2e

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def _token(request, username: str) -> dict:
    r = request.post("/api/v1/session", data={"username": username, "password": PASSWORD})
    assert r.status == 201, r.text()
    return {"Authorization": f"Bearer {r.json()['token']}"}


def filed_crane(request, serial: str) -> str:
    """A crane filed by owner_wuhan and approved by reg_wuhan through the API; its record number."""
    owner = _token(request, "owner_wuhan")
    documents = {}
    for name in DOCUMENTS:
        r = request.post("/api/v1/attachments", headers=owner, multipart={
            "file": {"name": f"{name}.pdf", "mimeType": "application/pdf", "buffer": PDF}})
        assert r.status == 201, r.text()
        documents[name] = [r.json()["id"]]
    r = request.post("/api/v1/cases", headers=owner, data={"process_key": "crane_registration", "data": {
        "crane_type": "tower_crane", "model": "QTZ80(TC5610-6)", "manufacturer": "中联重科股份有限公司",
        "manufacturing_licence_no": "TS2410001-2027", "factory_serial": serial, "manufacture_date": "2021-03-15",
        "rated_moment_knm": 800, "product_certificate_no": "HG-2021-0315",
        "supervision_certificate_no": "JJ-2021-0099", "purchase_date": "2021-05-01", "documents": documents}})
    assert r.status == 201, r.text()
    case = r.json()
    (task,) = case["open_tasks"]
    r = request.post(f"/api/v1/tasks/{task['id']}/complete", headers=_token(request, "reg_wuhan"),
                     data={"data": {"decision": "approve"}})
    assert r.status == 200, r.text()
    return request.get(f"/api/v1/cranes/{case['subject']['id']}", headers=owner).json()["record_number"]


def test_anyone_looks_up_a_crane_by_its_record_number(page, shot):
    record_number = filed_crane(page.request, "VERIFY-E2E-1")
    page.context.clear_cookies()
    page.goto("/verify")
    expect(page.get_by_test_id("lookup-form")).to_be_visible()
    page.get_by_test_id("lookup-q").fill(record_number)
    with page.expect_navigation():
        page.get_by_test_id("lookup-submit").click()
    facts = page.get_by_test_id("public-facts")
    expect(facts.get_by_test_id("record-number")).to_have_text(record_number)
    expect(facts).to_contain_text("QTZ80(TC5610-6)")
    expect(facts).to_contain_text("武汉鑫塔建筑机械租赁有限公司")
    expect(facts.get_by_test_id("crane-state")).to_have_text("已备案（闲置）")
    row = page.get_by_test_id("certificates").locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-status", "valid")
    expect(row).to_contain_text("鄂A建机备证〔")
    expect(page.get_by_test_id("upload-form")).to_be_visible()
    shot(page, "verify-portal")
