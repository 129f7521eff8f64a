"""In the browser: the regulator's inbox scoped to its region, filtered and searched, and tasks
claimed, seen as held by a colleague, and released."""
from playwright.sync_api import expect

from tests.e2e.test_crane_filing_walkthrough import DOCUMENTS, PASSWORD, inbox_row, login

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def _file_by_api(page, username: str, serial: str) -> int:
    """A crane filing started through the API (token login, uploads, start); returns the case id."""
    api = page.context.request
    r = api.post("/api/v1/session", data={"username": username, "password": PASSWORD})
    assert r.status == 201, r.text()
    auth = {"Authorization": f"Bearer {r.json()['token']}"}
    documents = {}
    for name in DOCUMENTS:
        up = api.post("/api/v1/attachments", headers=auth,
                      multipart={"file": {"name": f"{name}.pdf", "mimeType": "application/pdf", "buffer": PDF}})
        assert up.status == 201, up.text()
        documents[name] = [up.json()["id"]]
    data = {"crane_type": "tower_crane", "model": "QTZ63(TC5013)", "manufacturer": "中联重科股份有限公司",
            "manufacturing_licence_no": "TS2410135-2027", "factory_serial": serial, "manufacture_date": "2022-04-01",
            "rated_moment_knm": 630, "product_certificate_no": f"HG-{serial}",
            "supervision_certificate_no": f"JJ-{serial}", "purchase_date": "2022-05-01", "documents": documents}
    r = api.post("/api/v1/cases", headers=auth, data={"process_key": "crane_registration", "data": data})
    assert r.status == 201, r.text()
    return r.json()["id"]


def _filter(page, **values):
    form = page.get_by_test_id("inbox-filters")
    for name, value in values.items():
        field = form.locator(f'[name="{name}"]')
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    with page.expect_navigation():
        form.get_by_role("button", name="筛选").click()


def test_inbox_filters_search_and_claims(page, shot):
    first = _file_by_api(page, "owner_wuhan", "E2E-INBOX-A")
    second = _file_by_api(page, "owner_wuhan", "E2E-INBOX-B")
    elsewhere = _file_by_api(page, "owner_yichang", "E2E-INBOX-Y")

    login(page, "reg_wuhan")
    page.goto("/inbox")
    for case_id in (first, second):
        expect(inbox_row(page, case_id)).to_have_count(1)
    expect(inbox_row(page, elsewhere)).to_have_count(0)  # 宜昌's case is not in 武汉's inbox
    expect(inbox_row(page, first).get_by_test_id("sla")).to_contain_text("剩余")

    _filter(page, q="E2E-INBOX-B")
    expect(inbox_row(page, second)).to_have_count(1)
    expect(inbox_row(page, first)).to_have_count(0)
    _filter(page, q="", process_key="enterprise_filing")
    expect(page.get_by_test_id("inbox")).to_have_count(0)
    _filter(page, process_key="crane_registration", region="420500")  # 宜昌市: outside the jurisdiction
    expect(page.locator(".field-error")).to_contain_text("辖区")
    _filter(page, region="")

    row = inbox_row(page, first)
    with page.expect_navigation():
        row.get_by_test_id("claim").click()
    expect(inbox_row(page, first).get_by_test_id("holder")).to_contain_text("陈静")
    _filter(page, claimed="me")
    expect(inbox_row(page, first)).to_have_count(1)
    expect(inbox_row(page, second)).to_have_count(0)
    shot(page, "inbox-claimed")

    # A colleague of the same office sees who holds the task and cannot work on it.
    login(page, "reg_wuhan2")
    page.goto("/inbox")
    held = inbox_row(page, first)
    expect(held.get_by_test_id("holder")).to_contain_text("陈静")
    expect(held.get_by_test_id("claim")).to_have_count(0)
    expect(held.get_by_role("link", name="查看")).to_have_count(1)
    with page.expect_navigation():
        inbox_row(page, second).get_by_test_id("claim").click()
    expect(inbox_row(page, second).get_by_test_id("holder")).to_contain_text("黄涛")

    # The holder releases the task; it is open to the office again.
    login(page, "reg_wuhan")
    page.goto("/inbox")
    with page.expect_navigation():
        inbox_row(page, first).get_by_test_id("unclaim").click()
    expect(inbox_row(page, first).get_by_test_id("holder")).to_have_text("")
    expect(inbox_row(page, first).get_by_test_id("claim")).to_have_count(1)
