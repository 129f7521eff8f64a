"""Case titles in the user's language: the stored title is the Chinese record, English pages and API
answers name the procedure from the catalog."""
import re

from tests.helpers import open_task_id, start_filing
from tests.integration.test_personnel_pages import _login

ZH_NAME, EN_NAME = "建筑起重机械产权备案", "Crane record filing"


def browser(app, username):
    client = app.test_client()
    _login(client, username)
    return client


def link_text(page: str, case_id: int) -> str:
    """What the first link to the case shows (the inbox and the task page link the case)."""
    return re.search(rf'<a href="/cases/{case_id}">(.*?)</a>', page, re.S).group(1).strip()


def test_pages_name_the_procedure_in_english_and_keep_the_chinese_record(app, api):
    case = start_filing(api("owner_wuhan"), serial="TITLE-EN-1")
    title, case_id = case["title"], case["id"]
    assert title.startswith("塔式起重机") and "TITLE-EN-1" in title  # the stored record stays Chinese
    reg = browser(app, "reg_wuhan")

    inbox = reg.get("/inbox").get_data(as_text=True)
    assert link_text(inbox, case_id) == title
    inbox_en = reg.get("/inbox?lang=en").get_data(as_text=True)
    assert link_text(inbox_en, case_id) == f'{EN_NAME} <span class="muted" lang="zh-CN">{title}</span>'

    page_en = reg.get(f"/cases/{case_id}?lang=en").get_data(as_text=True)
    assert re.search(r"<h1>(.*?)</h1>", page_en).group(1).startswith(EN_NAME + " ")
    assert re.search(r"<h1>(.*?)</h1>", reg.get(f"/cases/{case_id}").get_data(as_text=True)).group(1) == title

    task_en = reg.get(f"/tasks/{open_task_id(case)}?lang=en").get_data(as_text=True)
    assert link_text(task_en, case_id) == f"{EN_NAME} · {case['business_key']}"

    owner_cases = browser(app, "owner_wuhan").get("/cases?lang=en").get_data(as_text=True)
    assert f'{EN_NAME} <span class="muted" lang="zh-CN">{title}</span>' in owner_cases


def test_api_adds_the_procedure_name_in_the_requested_language(app, api):
    owner = api("owner_wuhan")
    case_id = start_filing(owner, serial="TITLE-EN-2")["id"]
    english = {"Accept-Language": "en"}
    zh_case = owner.get(f"/api/v1/cases/{case_id}").get_json()
    en_case = owner.get(f"/api/v1/cases/{case_id}", headers=english).get_json()
    assert (zh_case["procedure"], en_case["procedure"]) == (ZH_NAME, EN_NAME)
    assert en_case["title"] == zh_case["title"] and "TITLE-EN-2" in en_case["title"]
    assert en_case["open_tasks"][0]["procedure"] == EN_NAME
    listed = owner.get("/api/v1/cases", headers=english).get_json()["items"]
    assert [c["procedure"] for c in listed if c["id"] == case_id] == [EN_NAME]
    tasks = api("reg_wuhan").get("/api/v1/tasks?lang=en").get_json()["items"]
    assert [(t["procedure"], t["case_title"]) for t in tasks if t["case_id"] == case_id] == [
        (EN_NAME, en_case["title"])]
