"""Browser walk-through of crane record filing: file, return for correction, correct, approve.

Also: a failed submission keeps what was entered (uploads included), the language switch, and the
inbox on a phone. Full-page screenshots of the main pages go to docs/screenshots/ on every run.
"""
import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

PASSWORD = "CraneFlow-demo-2026"
DOCUMENTS = ("manufacturing_licence", "product_certificate", "supervision_certificate", "ownership_proof")
RECORD_NUMBER = re.compile(r"鄂A-T\d{4}\d{5}")
CJK = re.compile(r"[\u4e00-\u9fff]")


# --- helpers -------------------------------------------------------------------------------------

def login(page, username: str) -> None:
    """Log in as `username` in a clean session (cookies of the previous user are dropped)."""
    page.context.clear_cookies()
    page.goto("/login")
    page.locator('input[name="username"]').fill(username)
    page.locator('input[name="password"]').fill(PASSWORD)
    with page.expect_navigation():
        page.locator('form button[type="submit"].primary').click()
    assert "/login" not in page.url, f"login as {username} failed"
    expect(page.get_by_test_id("current-user")).to_be_visible()


def make_pdfs(tmp_path, tag: str) -> dict:
    """Four small PDF files, one per required document."""
    files = {}
    for name in DOCUMENTS:
        path = tmp_path / f"{tag}-{name}.pdf"
        path.write_bytes(b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n% CraneFlow e2e " + name.encode()
                         + b"\ntrailer<</Root 1 0 R>>\n%%EOF\n")
        files[name] = path
    return files


def fill_filing_form(page, *, serial: str, model: str = "QTZ80(TC5610-6)", skip=()) -> None:
    values = {
        "model": model,
        "manufacturer": "中联重科股份有限公司",
        "manufacturing_licence_no": "TS2410135-2027",
        "factory_serial": serial,
        "manufacture_date": "2023-05-10",
        "rated_moment_knm": "800",
        "product_certificate_no": f"HG-{serial}",
        "supervision_certificate_no": f"JJ-{serial}",
        "purchase_date": "2023-06-01",
    }
    if "crane_type" not in skip:
        page.locator('select[name="crane_type"]').select_option("tower_crane")
    for name, value in values.items():
        if name not in skip:
            page.locator(f'[name="{name}"]').fill(value)


def upload_documents(page, files: dict) -> None:
    for name, path in files.items():
        page.get_by_test_id(f"file-documents.{name}").set_input_files(str(path))


def submit(page) -> None:
    with page.expect_navigation():
        page.get_by_test_id("submit-task").click()


def start_filing(page) -> int:
    """On /cases as the owner: start a crane filing; returns the task id of the filing form."""
    page.goto("/cases")
    with page.expect_navigation():
        page.get_by_test_id("start-crane_registration").click()
    match = re.search(r"/tasks/(\d+)$", page.url)
    assert match, f"expected the filing form after starting, got {page.url}"
    return int(match.group(1))


def case_id_from(page) -> int:
    match = re.search(r"/cases/(\d+)", page.url)
    assert match, f"expected a case page, got {page.url}"
    return int(match.group(1))


def file_complete_case(page, tmp_path, serial: str) -> int:
    """owner_wuhan files a complete crane registration; returns the case id."""
    login(page, "owner_wuhan")
    start_filing(page)
    fill_filing_form(page, serial=serial)
    upload_documents(page, make_pdfs(tmp_path, serial))
    submit(page)
    expect(page.locator(".alert.ok")).to_be_visible()
    return case_id_from(page)


def inbox_row(page, case_id: int):
    return page.get_by_test_id("inbox").locator("tbody tr").filter(
        has=page.locator(f'a[href="/cases/{case_id}"]'))


def open_review_from_inbox(page, case_id: int) -> None:
    page.goto("/inbox")
    row = inbox_row(page, case_id)
    expect(row).to_have_count(1)
    with page.expect_navigation():
        row.get_by_role("link", name="办理").click()
    assert re.search(r"/tasks/\d+$", page.url)


def no_horizontal_overflow(page, width: int) -> int:
    scroll_width = page.evaluate("document.scrollingElement.scrollWidth")
    assert scroll_width <= width + 1, f"page is {scroll_width}px wide on a {width}px screen"
    return scroll_width


# --- tests ---------------------------------------------------------------------------------------

def test_filing_return_correct_approve(page, tmp_path, shot):
    # The owner files a tower crane with its four required documents.
    page.goto("/login")
    expect(page.locator('input[name="username"]')).to_be_visible()
    shot(page, "01-login")

    login(page, "owner_wuhan")
    assert page.url.endswith("/cases")
    start_filing(page)
    expect(page.locator("h1")).to_be_visible()
    fill_filing_form(page, serial="ZL-E2E-0001")
    upload_documents(page, make_pdfs(tmp_path, "walk"))
    shot(page, "03-filing-form")
    submit(page)
    expect(page.locator(".alert.ok")).to_contain_text("已提交")
    case_id = case_id_from(page)

    page.goto("/cases")
    expect(page.locator(f'a[href="/cases/{case_id}"]')).to_be_visible()
    shot(page, "02-owner-cases")

    # 宜昌 has no jurisdiction over a 武汉 owner's filing.
    login(page, "reg_yichang")
    page.goto("/inbox")
    expect(page.locator(f'a[href="/cases/{case_id}"]')).to_have_count(0)
    expect(page.get_by_test_id("inbox")).to_have_count(0)
    expect(page.locator("p.empty")).to_be_visible()

    # 武汉 returns it for correction.
    login(page, "reg_wuhan")
    page.goto("/inbox")
    expect(inbox_row(page, case_id)).to_have_count(1)
    shot(page, "04-regulator-inbox")
    open_review_from_inbox(page, case_id)
    shot(page, "05-review-form")
    reason = "规格型号与产品合格证不一致，请核对后补正。"
    page.get_by_label("退回补正").check()
    page.locator('[name="reason"]').fill(reason)
    submit(page)
    assert case_id_from(page) == case_id
    expect(page.get_by_test_id("history")).to_contain_text(reason)

    # The owner finds the correction task through the case, sees the reason, fixes the model.
    login(page, "owner_wuhan")
    page.goto("/cases")
    with page.expect_navigation():
        page.locator(f'a[href="/cases/{case_id}"]').click()
    with page.expect_navigation():
        page.get_by_test_id("open-task").click()
    expect(page.get_by_test_id("return-reason")).to_contain_text(reason)
    for name in DOCUMENTS:  # the documents filed the first time are still attached
        expect(page.locator(f'[data-field="documents.{name}"] ul.files li')).to_have_count(1)
    expect(page.locator('[name="model"]')).to_have_value("QTZ80(TC5610-6)")
    page.locator('[name="model"]').fill("QTZ80(TC5613-6)")
    shot(page, "06-correction-form")
    submit(page)
    expect(page.locator(".alert.ok")).to_be_visible()

    # 武汉 approves.
    login(page, "reg_wuhan")
    open_review_from_inbox(page, case_id)
    page.get_by_label("准予备案").check()
    submit(page)

    page.goto(f"/cases/{case_id}")
    status = page.get_by_test_id("case-status")
    expect(status).to_have_text(re.compile("已办结|准予"))
    record = page.get_by_test_id("record-number")
    expect(record).to_have_text(RECORD_NUMBER)
    record_number = record.inner_text().strip()
    history = page.get_by_test_id("history")
    expect(history).to_contain_text("退回补正")
    expect(history).to_contain_text("准予备案")
    expect(history.locator("li")).to_have_count(5)  # start, filing, return, correction, approval
    expect(page.locator(".facts")).to_contain_text("QTZ80(TC5613-6)")
    shot(page, "07-case-detail-history")

    page.goto("/cranes")
    row = page.locator("table.grid tbody tr").filter(has_text=record_number)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("QTZ80(TC5613-6)")
    expect(row).to_contain_text("ZL-E2E-0001")
    shot(page, "08-cranes-list")

    # The owner sees the same record number on their own crane list.
    login(page, "owner_wuhan")
    page.goto("/cranes")
    expect(page.locator("table.grid tbody tr").filter(has_text=record_number)).to_have_count(1)

    # The same case page in English.
    page.goto(f"/cases/{case_id}")
    with page.expect_navigation():
        page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_test_id("record-number")).to_have_text(record_number)
    shot(page, "09-case-detail-en")


def test_missing_required_field_keeps_entered_data_and_uploads(page, tmp_path, shot):
    login(page, "owner_wuhan")
    task_id = start_filing(page)
    fill_filing_form(page, serial="ZL-E2E-0002", skip=("manufacturer",))
    files = make_pdfs(tmp_path, "keep")
    upload_documents(page, files)
    with page.expect_navigation() as nav:
        page.get_by_test_id("submit-task").click()
    assert nav.value.status == 422
    assert page.url.endswith(f"/tasks/{task_id}")

    expect(page.locator(".alert.error")).to_be_visible()
    field = page.locator('[data-field="manufacturer"]')
    expect(field).to_have_class(re.compile(r"\bhas-error\b"))
    expect(field.locator(".field-error")).to_have_text("此项为必填项。")
    # Nothing entered is lost: the other values and every uploaded file are still there.
    expect(page.locator('[name="model"]')).to_have_value("QTZ80(TC5610-6)")
    expect(page.locator('[name="factory_serial"]')).to_have_value("ZL-E2E-0002")
    expect(page.locator('[name="manufacture_date"]')).to_have_value("2023-05-10")
    expect(page.locator('select[name="crane_type"]')).to_have_value("tower_crane")
    for name, path in files.items():
        listed = page.locator(f'[data-field="documents.{name}"] ul.files li')
        expect(listed).to_have_count(1)
        expect(listed.locator('input[type="checkbox"]')).to_be_checked()
        # The kept attachment is the uploaded file itself.
        href = listed.locator("a").get_attribute("href")
        response = page.request.get(href)
        assert response.ok, f"{href}: {response.status}"
        assert response.body() == path.read_bytes()
    shot(page, "10-filing-form-errors")

    # Filling the missing field is enough: the kept uploads satisfy the document requirement.
    page.locator('[name="manufacturer"]').fill("中联重科股份有限公司")
    submit(page)
    expect(page.locator(".alert.ok")).to_be_visible()
    expect(page.get_by_test_id("case-status")).to_be_visible()


def test_failed_submission_lists_kept_uploads_by_file_name(page, tmp_path):
    login(page, "owner_wuhan")
    start_filing(page)
    fill_filing_form(page, serial="ZL-E2E-0004", skip=("model",))
    files = make_pdfs(tmp_path, "names")
    upload_documents(page, files)
    submit(page)
    expect(page.locator('[data-field="model"] .field-error')).to_be_visible()
    for name, path in files.items():
        listed = page.locator(f'[data-field="documents.{name}"] ul.files li')
        expect(listed).to_contain_text(path.name, timeout=2000)


def test_language_switch(page):
    login(page, "owner_wuhan")
    page.goto("/cases")
    nav = page.locator("header .mainnav")
    expect(nav).to_contain_text("我的业务")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")

    with page.expect_navigation():
        page.locator("header").get_by_role("link", name="English").click()
    assert page.url.endswith("/cases"), "the switch returns to the page it was used on"
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("header").get_by_role("link", name="中文")).to_be_visible()
    nav_text = nav.inner_text()
    assert not CJK.search(nav_text), f"header navigation not in English: {nav_text!r}"
    brand = page.locator("header .brand").inner_text()
    assert not CJK.search(brand), f"header title not in English: {brand!r}"

    with page.expect_navigation():
        page.locator("header").get_by_role("link", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(nav).to_contain_text("我的业务")
    expect(page.locator("header").get_by_role("link", name="English")).to_be_visible()


def test_inbox_fits_a_phone(browser, live_server, page, tmp_path, shot):
    case_id = file_complete_case(page, tmp_path, "ZL-E2E-0003")

    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                  base_url=live_server, is_mobile=True, has_touch=True)
    try:
        phone = context.new_page()
        login(phone, "reg_wuhan")
        phone.goto("/inbox")
        expect(inbox_row(phone, case_id)).to_have_count(1)
        no_horizontal_overflow(phone, 390)
        shot(phone, "11-phone-inbox")
    finally:
        context.close()
