"""422 answers for invalid form data, API bodies and query strings, in Chinese or English.

Every case names the offending field path in `errors` and the exact message (forms/messages.py),
checked in the default language (Simplified Chinese), with `Accept-Language: en` and with `?lang=en`.
"""
from datetime import date, timedelta

import pytest

from forms import t
from forms.fields import today_in_china
from tests.helpers import filing_data, open_task_id, start_filing, upload

LANGS = ("zh_CN", "en-header", "en-query")
INVALID_MESSAGE_ZH = "提交的内容有误，请按提示修改。"
REQUIRED_DOCS = ("manufacturing_licence", "product_certificate", "supervision_certificate", "ownership_proof")
REQUIRED_FIELDS = ("crane_type", "model", "manufacturer", "manufacturing_licence_no", "factory_serial",
                   "manufacture_date", "product_certificate_no", "supervision_certificate_no", "documents")
TOMORROW = (today_in_china() + timedelta(days=1)).isoformat()
ELEVEN_YEARS_AGO = date(today_in_china().year - 11, 1, 10).isoformat()


def _lang(url, lang):
    """(url, headers) asking for `lang` the way the case says."""
    if lang == "en-query":
        return url + ("&" if "?" in url else "?") + "lang=en", {}
    if lang == "en-header":
        return url, {"Accept-Language": "en-US,en;q=0.9"}
    return url, {}


def _message(key, lang, **params):
    return t(key, "zh_CN" if lang == "zh_CN" else "en", **params)


def _at(errors, path):
    node = errors
    for part in path:
        assert isinstance(node, dict) and part in node, f"{path} not in {errors}"
        node = node[part]
    return node


def _assert_422(r, path, key, lang, **params):
    assert r.status_code == 422, r.get_data(as_text=True)
    body = r.get_json()
    assert body["error"] == "invalid"
    if lang == "zh_CN":
        assert body["message"] == INVALID_MESSAGE_ZH
    assert _message(key, lang, **params) in _at(body["errors"], path), body["errors"]


def _without(data, *names):
    return {k: v for k, v in data.items() if k not in names}


def _docs(data, **changes):
    docs = {**data["documents"], **changes}
    return {**data, "documents": {k: v for k, v in docs.items() if v is not ...}}


# (case id, change to a valid filing, error path, message key, message params)
FILING_CASES = [
    *[(f"missing-{name}", lambda d, n=name: _without(d, n), (name,), "required", {}) for name in REQUIRED_FIELDS],
    *[(f"missing-document-{doc}", lambda d, doc=doc: _docs(d, **{doc: ...}), ("documents", doc), "required", {})
      for doc in REQUIRED_DOCS],
    *[(f"empty-document-list-{doc}", lambda d, doc=doc: _docs(d, **{doc: []}), ("documents", doc), "required", {})
      for doc in REQUIRED_DOCS],
    ("null-model", lambda d: {**d, "model": None}, ("model",), "null", {}),
    ("blank-model", lambda d: {**d, "model": "   "}, ("model",), "length_between", {"min": 1, "max": 64}),
    ("long-model", lambda d: {**d, "model": "Q" * 65}, ("model",), "length_between", {"min": 1, "max": 64}),
    ("long-manufacturer", lambda d: {**d, "manufacturer": "厂" * 201}, ("manufacturer",), "length_between",
     {"min": 1, "max": 200}),
    ("number-for-model", lambda d: {**d, "model": 80}, ("model",), "type_string", {}),
    ("text-for-rated-moment", lambda d: {**d, "rated_moment_knm": "八百"}, ("rated_moment_knm",), "type_number", {}),
    ("numeric-text-for-rated-moment", lambda d: {**d, "rated_moment_knm": "800"}, ("rated_moment_knm",),
     "type_number", {}),
    ("boolean-for-rated-moment", lambda d: {**d, "rated_moment_knm": True}, ("rated_moment_knm",), "type_number", {}),
    ("nan-rated-moment", lambda d: {**d, "rated_moment_knm": float("nan")}, ("rated_moment_knm",), "type_number", {}),
    ("infinite-max-height", lambda d: {**d, "max_height_m": float("inf")}, ("max_height_m",), "type_number", {}),
    ("float-for-design-life", lambda d: {**d, "design_life_years": 12.5}, ("design_life_years",), "type_integer", {}),
    ("text-for-design-life", lambda d: {**d, "design_life_years": "12"}, ("design_life_years",), "type_integer", {}),
    ("float-for-rated-load", lambda d: {**d, "rated_load_kg": 1500.5}, ("rated_load_kg",), "type_integer", {}),
    ("non-date-manufacture", lambda d: {**d, "manufacture_date": "15/03/2021"}, ("manufacture_date",), "type_date", {}),
    ("number-for-manufacture-date", lambda d: {**d, "manufacture_date": 20210315}, ("manufacture_date",),
     "type_date", {}),
    ("impossible-purchase-date", lambda d: {**d, "purchase_date": "2021-02-30"}, ("purchase_date",), "type_date", {}),
    ("non-date-licence-validity", lambda d: {**d, "manufacturing_licence_valid_until": "soon"},
     ("manufacturing_licence_valid_until",), "type_date", {}),
    ("rated-moment-zero", lambda d: {**d, "rated_moment_knm": 0}, ("rated_moment_knm",), "range_between",
     {"min": 1, "max": 20000}),
    ("rated-moment-negative", lambda d: {**d, "rated_moment_knm": -5}, ("rated_moment_knm",), "range_between",
     {"min": 1, "max": 20000}),
    ("rated-moment-too-large", lambda d: {**d, "rated_moment_knm": 20000.5}, ("rated_moment_knm",), "range_between",
     {"min": 1, "max": 20000}),
    ("design-life-zero", lambda d: {**d, "design_life_years": 0}, ("design_life_years",), "range_between",
     {"min": 1, "max": 50}),
    ("design-life-51", lambda d: {**d, "design_life_years": 51}, ("design_life_years",), "range_between",
     {"min": 1, "max": 50}),
    ("rated-load-too-large", lambda d: {**d, "rated_load_kg": 200001}, ("rated_load_kg",), "range_between",
     {"min": 1, "max": 200000}),
    ("max-height-too-small", lambda d: {**d, "max_height_m": 0.5}, ("max_height_m",), "range_between",
     {"min": 1, "max": 1000}),
    ("unknown-crane-type", lambda d: {**d, "crane_type": "crawler_crane"}, ("crane_type",), "one_of",
     {"choices": "tower_crane, construction_hoist, material_hoist, gantry_crane"}),
    ("unknown-hoist-drive", lambda d: {**d, "crane_type": "construction_hoist", "hoist_drive": "XX"},
     ("hoist_drive",), "one_of", {"choices": "SC, SS, SH"}),
    ("future-manufacture-date", lambda d: {**d, "manufacture_date": "2999-01-01", "purchase_date": None},
     ("manufacture_date",), "date_future", {}),
    ("manufactured-tomorrow", lambda d: {**d, "manufacture_date": TOMORROW, "purchase_date": None},
     ("manufacture_date",), "date_future", {}),
    ("future-purchase-date", lambda d: {**d, "purchase_date": TOMORROW}, ("purchase_date",), "date_future", {}),
    ("purchase-before-manufacture", lambda d: {**d, "purchase_date": "2021-03-14"}, ("purchase_date",),
     "purchase_before_manufacture", {}),
    ("tower-crane-without-rated-moment", lambda d: _without(d, "rated_moment_knm"), ("rated_moment_knm",),
     "rated_moment_required", {}),
    ("tower-crane-with-null-rated-moment", lambda d: {**d, "rated_moment_knm": None}, ("rated_moment_knm",),
     "rated_moment_required", {}),
    ("hoist-without-drive", lambda d: {**_without(d, "rated_moment_knm"), "crane_type": "construction_hoist"},
     ("hoist_drive",), "hoist_drive_required", {}),
    ("unknown-field", lambda d: {**d, "colour": "yellow"}, ("colour",), "unknown", {}),
    ("unknown-document-type", lambda d: _docs(d, blueprint=list(d["documents"]["ownership_proof"])),
     ("documents", "blueprint"), "unknown", {}),
    ("documents-not-an-object", lambda d: {**d, "documents": "all"}, ("documents", "_schema"), "invalid", {}),
    ("document-list-not-a-list", lambda d: _docs(d, photo="x"), ("documents", "photo"), "type_list", {}),
    ("attachment-id-as-text", lambda d: _docs(d, photo=["1"]), ("documents", "photo", "0"), "type_integer", {}),
    ("attachment-id-zero", lambda d: _docs(d, photo=[0]), ("documents", "photo"), "attachment_unknown", {}),
    ("attachment-id-beyond-integer-range", lambda d: _docs(d, photo=[2**40]), ("documents", "photo"),
     "attachment_unknown", {}),
    ("attachment-id-that-does-not-exist", lambda d: _docs(d, photo=[999999]), ("documents", "photo"),
     "attachment_unknown", {}),
    ("too-many-attachments", lambda d: _docs(d, photo=list(range(1, 22))), ("documents", "photo"), "length_max",
     {"max": 20}),
    ("over-age-tower-crane-without-assessment",
     lambda d: {**d, "manufacture_date": ELEVEN_YEARS_AGO, "purchase_date": None, "rated_moment_knm": 500},
     ("documents", "assessment_report"), "assessment_required", {}),
]


def _start_body(data):
    return {"process_key": "crane_registration", "data": data}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("change", "path", "key", "params"), [c[1:] for c in FILING_CASES],
                         ids=[c[0] for c in FILING_CASES])
def test_start_with_invalid_filing_is_422_naming_the_field(api, lang, change, path, key, params):
    owner = api("owner_wuhan")
    data = change(filing_data(owner, serial="BAD-1"))
    url, headers = _lang("/api/v1/cases", lang)
    r = owner.post(url, json=_start_body(data), headers=headers)
    _assert_422(r, path, key, lang, **params)
    assert owner.get("/api/v1/cases").get_json()["total"] == 0  # nothing half-saved
    assert owner.get("/api/v1/cranes").get_json()["total"] == 0


@pytest.mark.parametrize("lang", LANGS)
def test_attachment_of_another_enterprise_is_refused(api, lang):
    owner, other = api("owner_wuhan"), api("owner_yichang")
    foreign = upload(other, name="their-invoice.pdf")
    data = filing_data(owner, serial="BAD-FOREIGN")
    data["documents"]["ownership_proof"] = [foreign]
    url, headers = _lang("/api/v1/cases", lang)
    r = owner.post(url, json=_start_body(data), headers=headers)
    _assert_422(r, ("documents", "ownership_proof"), "attachment_unknown", lang)
    assert set(r.get_json()["errors"]["documents"]) == {"ownership_proof"}
    assert owner.get("/api/v1/cases").get_json()["total"] == 0


def test_over_age_tower_crane_with_assessment_report_is_accepted(api):
    owner = api("owner_wuhan")
    data = filing_data(owner, serial="OLD-1", manufacture_date=ELEVEN_YEARS_AGO, purchase_date=None,
                       rated_moment_knm=500)
    data["documents"]["assessment_report"] = [upload(owner, name="assessment.pdf")]
    r = owner.post("/api/v1/cases", json=_start_body(data))
    assert r.status_code == 201, r.get_data(as_text=True)
    # the same crane rated 630 kN·m or more has a 15-year threshold: no report needed at 11 years
    assert start_filing(owner, serial="OLD-2", manufacture_date=ELEVEN_YEARS_AGO, purchase_date=None,
                        rated_moment_knm=630)["status"] == "running"


def test_valid_numbers_with_integer_values_are_accepted(api):
    owner = api("owner_wuhan")
    r = owner.post("/api/v1/cases", json=_start_body(filing_data(
        owner, serial="NUM-1", rated_moment_knm=800, max_height_m=45.5, design_life_years=15, rated_load_kg=6000)))
    assert r.status_code == 201, r.get_data(as_text=True)


# --- the API's own request bodies ------------------------------------------------------------------

BODY_CASES = [
    ("data-is-a-list", {"process_key": "crane_registration", "data": [1, 2]}, ("data",), "invalid"),
    ("data-is-text", {"process_key": "crane_registration", "data": "tower crane"}, ("data",), "invalid"),
    ("missing-process-key", {"data": None}, ("process_key",), "required"),
    ("unknown-top-level-field", {"process_key": "crane_registration", "priority": "high"}, ("priority",),
     "unknown"),
]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("body", "path", "key"), [c[1:] for c in BODY_CASES], ids=[c[0] for c in BODY_CASES])
def test_start_with_invalid_body_is_422(api, lang, body, path, key):
    owner = api("owner_wuhan")
    url, headers = _lang("/api/v1/cases", lang)
    _assert_422(owner.post(url, json=body, headers=headers), path, key, lang)
    assert owner.get("/api/v1/cases").get_json()["total"] == 0


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("raw", ["not json", "[1, 2]", '"text"', ""], ids=["text", "array", "string", "empty"])
def test_start_with_non_json_body_is_422(api, lang, raw):
    owner = api("owner_wuhan")
    url, headers = _lang("/api/v1/cases", lang)
    r = owner.post(url, data=raw, headers={**headers, "Content-Type": "application/json"})
    _assert_422(r, ("_body",), "json_object", lang)


# --- completing the review task (filing_review) ----------------------------------------------------

REVIEW_CASES = [
    ("missing-decision", {"reason": "资料不全"}, ("decision",), "required", {}),
    ("null-decision", {"decision": None}, ("decision",), "null", {}),
    ("unknown-decision", {"decision": "maybe"}, ("decision",), "one_of", {"choices": "approve, return, reject"}),
    ("number-for-decision", {"decision": 1}, ("decision",), "type_string", {}),
    ("return-without-reason", {"decision": "return"}, ("reason",), "reason_required", {}),
    ("reject-without-reason", {"decision": "reject"}, ("reason",), "reason_required", {}),
    ("reject-with-blank-reason", {"decision": "reject", "reason": "   "}, ("reason",), "reason_required", {}),
    ("reason-too-long", {"decision": "return", "reason": "理" * 2001}, ("reason",), "length_max", {"max": 2000}),
    ("number-for-reason", {"decision": "return", "reason": 5}, ("reason",), "type_string", {}),
    ("unknown-field", {"decision": "approve", "comment": "ok"}, ("comment",), "unknown", {}),
]


@pytest.fixture
def review(api):
    """A Wuhan filing waiting for review: the reviewer's client, the owner's, the task and case ids."""
    owner = api("owner_wuhan")
    case = start_filing(owner, serial="REVIEW-1")
    return {"reg": api("reg_wuhan"), "owner": owner, "task": open_task_id(case), "case": case["id"]}


def _snapshot(review):
    case = review["owner"].get(f"/api/v1/cases/{review['case']}").get_json()
    task = review["reg"].get(f"/api/v1/tasks/{review['task']}").get_json()
    crane = review["owner"].get(f"/api/v1/cranes/{case['subject']['id']}").get_json()
    return {"history": case["history"], "version": case["version"], "status": case["status"],
            "open": [tk["id"] for tk in case["open_tasks"]], "task_status": task["status"],
            "crane_status": crane["status"]}


def _complete(review, body, lang, raw=None):
    url, headers = _lang(f"/api/v1/tasks/{review['task']}/complete", lang)
    if raw is not None:
        return review["reg"].post(url, data=raw, headers={**headers, "Content-Type": "application/json"})
    return review["reg"].post(url, json=body, headers=headers)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("data", "path", "key", "params"), [c[1:] for c in REVIEW_CASES],
                         ids=[c[0] for c in REVIEW_CASES])
def test_invalid_review_decision_is_422_and_changes_nothing(review, lang, data, path, key, params):
    before = _snapshot(review)
    _assert_422(_complete(review, {"data": data}, lang), path, key, lang, **params)
    after = _snapshot(review)
    assert after == before
    assert after["task_status"] == "open" and after["open"] == [review["task"]]


COMPLETE_BODY_CASES = [
    ("data-missing", {}, ("data",), "required"),
    ("data-null", {"data": None}, ("data",), "null"),
    ("data-is-text", {"data": "approve"}, ("data",), "invalid"),
    ("data-is-a-list", {"data": ["approve"]}, ("data",), "invalid"),
    ("unknown-top-level-field", {"data": {"decision": "approve"}, "force": True}, ("force",), "unknown"),
]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("body", "path", "key"), [c[1:] for c in COMPLETE_BODY_CASES],
                         ids=[c[0] for c in COMPLETE_BODY_CASES])
def test_invalid_completion_body_is_422_and_changes_nothing(review, lang, body, path, key):
    before = _snapshot(review)
    _assert_422(_complete(review, body, lang), path, key, lang)
    assert _snapshot(review) == before


@pytest.mark.parametrize("lang", LANGS)
def test_non_json_completion_body_is_422_and_changes_nothing(review, lang):
    before = _snapshot(review)
    _assert_422(_complete(review, None, lang, raw="decision=approve"), ("_body",), "json_object", lang)
    assert _snapshot(review) == before


def test_valid_review_after_refused_one_still_completes(review):
    assert _complete(review, {"data": {"decision": "return"}}, "zh_CN").status_code == 422
    r = _complete(review, {"data": {"decision": "return", "reason": "缺少发票"}}, "zh_CN")
    assert r.status_code == 200
    history = review["owner"].get(f"/api/v1/cases/{review['case']}").get_json()["history"]
    assert [e["action"] for e in history] == ["start", "complete", "decision"]


# --- crane_filing through a correction task (POST /api/v1/tasks/{id}/complete) ---------------------

@pytest.fixture
def correction(review):
    r = review["reg"].post(f"/api/v1/tasks/{review['task']}/complete",
                           json={"data": {"decision": "return", "reason": "请补充"}})
    assert r.status_code == 200
    task_id = open_task_id(r.get_json())
    data = review["owner"].get(f"/api/v1/tasks/{task_id}").get_json()["data"]
    return {**review, "task": task_id, "data": data}


CORRECTION_CASES = [c for c in FILING_CASES if c[0] in {
    "missing-model", "empty-document-list-ownership_proof", "numeric-text-for-rated-moment", "float-for-design-life",
    "future-manufacture-date", "purchase-before-manufacture", "tower-crane-without-rated-moment",
    "hoist-without-drive", "unknown-crane-type", "unknown-field", "attachment-id-that-does-not-exist",
    "over-age-tower-crane-without-assessment"}]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("change", "path", "key", "params"), [c[1:] for c in CORRECTION_CASES],
                         ids=[c[0] for c in CORRECTION_CASES])
def test_invalid_correction_is_422_and_changes_nothing(correction, lang, change, path, key, params):
    owner = correction["owner"]
    before = owner.get(f"/api/v1/cases/{correction['case']}").get_json()
    crane_before = owner.get(f"/api/v1/cranes/{before['subject']['id']}").get_json()
    url, headers = _lang(f"/api/v1/tasks/{correction['task']}/complete", lang)
    r = owner.post(url, json={"data": change(dict(correction["data"]))}, headers=headers)
    _assert_422(r, path, key, lang, **params)
    after = owner.get(f"/api/v1/cases/{correction['case']}").get_json()
    assert after["history"] == before["history"] and after["version"] == before["version"]
    assert [tk["id"] for tk in after["open_tasks"]] == [correction["task"]]
    assert owner.get(f"/api/v1/cranes/{before['subject']['id']}").get_json() == crane_before


def test_correction_with_another_enterprises_attachment_is_refused(correction, api):
    foreign = upload(api("owner_yichang"))
    data = dict(correction["data"])
    data["documents"] = {**data["documents"], "photo": [foreign]}
    r = correction["owner"].post(f"/api/v1/tasks/{correction['task']}/complete", json={"data": data})
    _assert_422(r, ("documents", "photo"), "attachment_unknown", "zh_CN")
    task = correction["owner"].get(f"/api/v1/tasks/{correction['task']}").get_json()
    assert task["status"] == "open" and foreign not in task["data"]["documents"].get("photo", [])


# --- login body and query strings ------------------------------------------------------------------

SESSION_CASES = [
    ("missing-password", {"username": "owner_wuhan"}, ("password",), "required", {}),
    ("missing-username", {"password": "x"}, ("username",), "required", {}),
    ("empty-password", {"username": "owner_wuhan", "password": ""}, ("password",), "length_between",
     {"min": 1, "max": 256}),
    ("number-for-username", {"username": 7, "password": "x"}, ("username",), "type_string", {}),
    ("unknown-field", {"username": "owner_wuhan", "password": "x", "remember": True}, ("remember",), "unknown", {}),
]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("body", "path", "key", "params"), [c[1:] for c in SESSION_CASES],
                         ids=[c[0] for c in SESSION_CASES])
def test_invalid_login_body_is_422(client, world, lang, body, path, key, params):
    url, headers = _lang("/api/v1/session", lang)
    _assert_422(client.post(url, json=body, headers=headers), path, key, lang, **params)


QUERY_CASES = [
    ("/api/v1/tasks?per_page=1000", ("per_page",), "range_between", {"min": 1, "max": 100}),
    ("/api/v1/tasks?per_page=0", ("per_page",), "range_between", {"min": 1, "max": 100}),
    ("/api/v1/tasks?page=0", ("page",), "range_between", {"min": 1, "max": 100000}),
    ("/api/v1/tasks?page=abc", ("page",), "type_integer", {}),
    ("/api/v1/tasks?status=bogus", ("status",), "one_of", {"choices": "open, completed"}),
    ("/api/v1/tasks?sort=due_at", ("sort",), "one_of", {"choices": "due_asc, due_desc"}),
    ("/api/v1/tasks?order=asc", ("order",), "unknown", {}),
    ("/api/v1/tasks?claimed=others", ("claimed",), "one_of", {"choices": "me, unclaimed"}),
    ("/api/v1/tasks?region=420500", ("region",), "region_outside_jurisdiction", {}),
    ("/api/v1/tasks?q=x", ("q",), "search_too_short", {}),
    ("/api/v1/cases?per_page=1000", ("per_page",), "range_between", {"min": 1, "max": 100}),
    ("/api/v1/cranes?page=-1", ("page",), "range_between", {"min": 1, "max": 100000}),
]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("url", "path", "key", "params"), QUERY_CASES, ids=[c[0] for c in QUERY_CASES])
def test_invalid_query_string_is_422(api, lang, url, path, key, params):
    full, headers = _lang(url, lang)
    _assert_422(api("reg_wuhan").get(full, headers=headers), path, key, lang, **params)


def test_lang_parameter_is_not_mistaken_for_a_query_field(api):
    r = api("reg_wuhan").get("/api/v1/tasks?lang=en&status=completed")
    assert r.status_code == 200 and r.get_json()["items"] == []


def test_english_account_locale_is_used_without_header_or_parameter(api, world):
    from sqlalchemy import text

    with world.engine.begin() as conn:
        conn.execute(text("UPDATE user_account SET locale = 'en' WHERE username = 'reg_wuhan'"))
    _assert_422(api("reg_wuhan").get("/api/v1/tasks?status=bogus"), ("status",), "one_of", "en",
                choices="open, completed")
