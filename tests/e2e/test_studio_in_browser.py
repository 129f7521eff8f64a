"""In the browser: the admin opens crane_registration in the studio's modeler, renames a task in the
properties panel, sees a problem marked on its element, validates and deploys v2; new cases start on
v2 while an older one stays on v1 until the bulk migration moves it."""
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.e2e.test_crane_filing_walkthrough import DOCUMENTS, PASSWORD, login

pytestmark = pytest.mark.e2e

MODELER = Path(__file__).resolve().parents[2] / "web/static/vendor/bpmn-js/bpmn-modeler.production.min.js"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
NEW_NAME = "备案审查（新版）"


def _token(page, username: str) -> dict:
    r = page.request.post("/api/v1/session", data={"username": username, "password": PASSWORD})
    assert r.status == 201, r.text()
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _start_filing(page, auth: dict, serial: str) -> dict:
    docs = {}
    for name in DOCUMENTS:
        r = page.request.post("/api/v1/attachments", headers=auth, multipart={
            "file": {"name": f"{name}.pdf", "mimeType": "application/pdf", "buffer": PDF}})
        assert r.status == 201, r.text()
        docs[name] = [r.json()["id"]]
    data = {"crane_type": "tower_crane", "model": "QTZ80(TC5610-6)", "manufacturer": "中联重科股份有限公司",
            "manufacturing_licence_no": "TS2410001-2027", "factory_serial": serial, "manufacture_date": "2021-03-15",
            "rated_moment_knm": 800, "product_certificate_no": f"HG-{serial}",
            "supervision_certificate_no": f"JJ-{serial}", "purchase_date": "2021-05-01", "documents": docs}
    r = page.request.post("/api/v1/cases", headers=auth, data={"process_key": "crane_registration", "data": data})
    assert r.status == 201, r.text()
    return r.json()


def _version_of(page, auth: dict, case_id: int) -> int:
    return page.request.get(f"/api/v1/cases/{case_id}", headers=auth).json()["definition_version"]


def _select(page, element_id: str) -> None:
    page.locator(f'.studio-canvas g.djs-element[data-element-id="{element_id}"]').first.click(force=True)
    expect(page.get_by_test_id("prop-id")).to_have_value(element_id)


def test_admin_edits_validates_deploys_and_migrates(page, live_server, shot):
    if not MODELER.exists():
        pytest.fail("the bpmn-js modeler is not in web/static/vendor: run `make assets`")
    outside, errors = [], []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(("data:", "blob:"))
            and urlsplit(r.url).hostname != "127.0.0.1" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    owner = _token(page, "owner_wuhan")
    old_case = _start_filing(page, owner, "E2E-STUDIO-OLD")
    assert old_case["definition_version"] == 1

    login(page, "admin")
    page.goto("/admin/definitions")
    with page.expect_navigation():
        page.get_by_test_id("version-crane_registration-1").get_by_test_id("open-modeler").click()
    studio = page.get_by_test_id("studio")
    expect(studio).to_have_attribute("data-state", "ready")

    # The properties panel: a user task shows its lane, the catalog's lanes and its formKey.
    _select(page, "review_filing")
    expect(page.get_by_test_id("prop-lane")).to_have_value("备案机关")
    expect(page.locator(".studio-lanes")).to_contain_text("产权单位")
    expect(page.get_by_test_id("prop-form-key")).to_have_value("filing_review")
    page.get_by_test_id("prop-name").fill(NEW_NAME)
    page.get_by_test_id("prop-name").press("Enter")
    expect(page.locator('.studio-canvas g.djs-element[data-element-id="review_filing"]')).to_contain_text("备案审查")

    # An unsafe condition is marked on its flow and listed with its line, then put right.
    _select(page, "flow_approve")
    condition = page.get_by_test_id("prop-condition")
    expect(condition).to_have_value('decision == "approve"')
    condition.fill("__import__('os').system('id')")
    condition.blur()
    page.get_by_test_id("studio-validate").click()
    expect(page.locator('.studio-canvas g.djs-element.studio-problem[data-element-id="flow_approve"]')).to_have_count(1)
    expect(page.get_by_test_id("studio-problems").locator('li[data-element="flow_approve"]')).to_contain_text("第")
    page.get_by_test_id("studio-problems").locator('li[data-element="flow_approve"]').click()  # selects it
    expect(page.get_by_test_id("prop-id")).to_have_value("flow_approve")
    page.get_by_test_id("prop-condition").fill('decision == "approve"')
    page.get_by_test_id("prop-condition").blur()
    page.get_by_test_id("studio-validate").click()
    expect(page.get_by_test_id("studio-status")).to_have_text("校验通过：模型可以部署。")
    expect(page.locator(".studio-canvas g.studio-problem")).to_have_count(0)
    _select(page, "review_filing")
    shot(page, "studio-modeler")

    page.get_by_test_id("studio-deploy").click()
    expect(page.get_by_test_id("studio-status")).to_contain_text("已部署为新版本 v2")
    admin = _token(page, "admin")
    model = page.request.get("/api/v1/studio/processes/crane_registration/versions/2/bpmn", headers=admin).text()
    assert NEW_NAME in model and 'name="formKey" value="filing_review"' in model
    assert 'serviceTaskOperator id="crane_filing.approve"' in model  # the extensions survived the modeler

    new_case = _start_filing(page, owner, "E2E-STUDIO-NEW")
    assert new_case["definition_version"] == 2 and new_case["open_tasks"][0]["title"] == NEW_NAME
    assert _version_of(page, owner, old_case["id"]) == 1

    page.goto("/admin/studio/crane_registration/diff?from=1&to=2")
    expect(page.get_by_test_id("diff-new")).to_have_attribute("data-state", "ready")
    expect(page.get_by_test_id("diff-old")).to_have_attribute("data-state", "ready")
    expect(page.get_by_test_id("diff-new").locator('g.studio-changed[data-element-id="review_filing"]')).to_have_count(1)
    expect(page.get_by_test_id("diff-table").locator('tr[data-element-id="review_filing"]')).to_contain_text(NEW_NAME)
    shot(page, "studio-diff")

    page.goto("/admin/definitions")
    with page.expect_navigation():
        page.get_by_test_id("migrate-form").get_by_role("button").click()
    row = page.get_by_test_id("migration-preview").locator(f'tr[data-case-id="{old_case["id"]}"]')
    expect(row).to_contain_text("可以迁移")
    expect(row.locator('input[name="case_ids"]')).to_be_checked()
    shot(page, "studio-migration")
    with page.expect_navigation():
        page.get_by_test_id("migrate-selected").click()
    # Other browser tests share this server, so other v1 cases may move too: check ours.
    expect(page.get_by_test_id("migration-results")).to_contain_text(f"#{old_case['id']}：已迁移到 v2")
    expect(page.locator(f'[data-testid="migration-preview"] tr[data-case-id="{old_case["id"]}"]')).to_have_count(0)
    assert _version_of(page, owner, old_case["id"]) == 2
    assert outside == [] and errors == [], (outside, errors)
