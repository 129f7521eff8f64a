"""The admin studio API: versions, model download, validation, deployment, uploads and diffs."""
from pathlib import Path

import pytest

from tests.helpers import start_filing
from workflows.catalog import get_entry

SOURCE = get_entry("crane_registration").path.read_text(encoding="utf-8")
BASE = "/api/v1/studio/processes/crane_registration"
MIWG = Path(__file__).resolve().parents[1] / "fixtures" / "bpmn-miwg"
MIWG_FILES = sorted(MIWG.glob("*.[bB][pP][mM][nN]"))


def _raw(admin, action, xml: str | bytes, **query):
    body = xml.encode("utf-8") if isinstance(xml, str) else xml
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    return admin.post(f"{BASE}/{action}" + (f"?{qs}" if qs else ""), data=body, content_type="application/xml")


def _upload(admin, action, content: bytes, name: str, lang="zh_CN"):
    """A multipart body built here: Werkzeug's test client would spool a large one to a temporary
    file it never closes."""
    boundary = "----studio-test-boundary"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return admin.post(f"{BASE}/{action}?lang={lang}", data=body,
                      content_type=f"multipart/form-data; boundary={boundary}")


def test_process_list_shows_versions_with_case_counts_and_deployer(api):
    admin = api("admin")
    start_filing(api("owner_wuhan"), serial="STUDIO-1")
    r = _raw(admin, "deploy", SOURCE.replace('name="备案审核"', 'name="备案审查"'))
    assert r.status_code == 201 and r.get_json()["version"] == 2
    items = {p["key"]: p for p in admin.get("/api/v1/studio/processes").get_json()["items"]}
    versions = items["crane_registration"]["versions"]
    assert [(v["version"], v["running"], v["completed"]) for v in versions] == [(2, 0, 0), (1, 1, 0)]
    assert versions[0]["deployed_by"] == admin.user["display_name"] and versions[1]["deployed_by"] is None
    detail = admin.get(BASE).get_json()
    assert detail["lanes"] == ["产权单位", "备案机关"]
    assert "filing_review" in detail["form_keys"] and "crane_filing.approve" in detail["operators"]


def test_version_model_downloads_as_bpmn(api):
    r = api("admin").get(f"{BASE}/versions/1/bpmn")
    assert r.status_code == 200 and r.mimetype == "application/xml"
    assert r.get_data(as_text=True) == SOURCE
    assert 'filename="crane_registration-v1.bpmn"' in r.headers["Content-Disposition"]
    assert api("admin").get(f"{BASE}/versions/9/bpmn").status_code == 404
    assert api("admin").get("/api/v1/studio/processes/no_such/versions/1/bpmn").status_code == 404


def test_validate_lists_problems_with_line_and_element(api):
    admin = api("admin")
    ok = _raw(admin, "validate", SOURCE)
    assert ok.status_code == 200 and ok.get_json()["valid"] and ok.get_json()["problems"] == []
    broken = SOURCE.replace('value="filing_review"', 'value="no_such_form"')
    r = _raw(admin, "validate", broken, file_name="edited.bpmn")
    body = r.get_json()
    assert r.status_code == 200 and not body["valid"] and body["xml"] == broken
    (p,) = body["problems"]
    assert p["element"] == "review_filing" and p["file"] == "edited.bpmn" and "no_such_form" in p["message"]
    assert p["line"] == broken[:broken.index('id="review_filing"')].count("\n") + 1


def test_deploy_new_version_same_content_and_refusal(api):
    admin = api("admin")
    same = _raw(admin, "deploy", SOURCE)
    assert same.status_code == 200 and same.get_json() | {"sha256": None} == {
        "process_key": "crane_registration", "version": 1, "created": False, "file_name": "crane_registration.bpmn",
        "sha256": None}
    new = _upload(admin, "deploy", SOURCE.replace('name="备案审核"', 'name="备案审查"').encode(), "v2.bpmn")
    assert new.status_code == 201 and new.get_json()["version"] == 2 and new.get_json()["file_name"] == "v2.bpmn"
    bad = _raw(admin, "deploy", SOURCE.replace('id="crane_filing.reject"', 'id="os.system"'))
    assert bad.status_code == 422
    assert bad.get_json()["problems"][0]["element"] == "mark_rejected"
    assert len(admin.get("/api/v1/studio/processes").get_json()["items"][0]["versions"]) == 2


BAD_UPLOADS = [
    ("notes.txt", SOURCE.encode(), "errors", "只接受 .bpmn 或 .xml 文件。"),
    ("huge.bpmn", SOURCE.encode() + b"<!--" + b"x" * (2 * 1024 * 1024) + b"-->", "errors", "不能超过 2 MB"),
    ("empty.bpmn", b"  \n", "errors", "文件为空"),
    ("utf16.bpmn", SOURCE.encode("utf-16"), "errors", "UTF-8"),
    ("broken.bpmn", SOURCE.replace("</bpmn:process>", "</bpmn:proces>").encode(), "problems", "XML 格式错误"),
    ("laughs.bpmn", b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
                    b'<d>&b;</d>', "problems", "DOCTYPE"),
    ("external.bpmn", b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>',
     "problems", "DOCTYPE"),
    ("deep.bpmn", b"<a>" * 300 + b"</a>" * 300, "problems", "XML 格式错误"),
]


@pytest.mark.parametrize("name,content,kind,message", BAD_UPLOADS, ids=[b[0] for b in BAD_UPLOADS])
@pytest.mark.parametrize("action", ["validate", "deploy"])
def test_bad_uploads_are_refused_with_a_reason(api, name, content, kind, message, action):
    r = _upload(api("admin"), action, content, name)
    assert r.status_code == 422, r.get_data(as_text=True)
    body = r.get_json()
    found = body["errors"]["file"] if kind == "errors" else [p["message"] for p in body["problems"]]
    assert any(message in m for m in found), found
    if name == "broken.bpmn":
        assert body["problems"][0]["line"] == SOURCE[:SOURCE.index("</bpmn:process>")].count("\n") + 1


def test_model_of_another_process_opens_and_is_refused_at_deploy(api):
    other = SOURCE.replace('id="crane_registration" name', 'id="other" name').encode()
    opened = _upload(api("admin"), "validate", other, "other.bpmn")
    assert opened.status_code == 200 and opened.get_json()["xml"] == other.decode()
    (p,) = opened.get_json()["problems"]
    assert "没有 id 为“crane_registration”的流程（找到：other）" in p["message"]
    assert (p["element"], p["line"]) == ("other", SOURCE[:SOURCE.index("<bpmn:process ")].count("\n") + 1)
    refused = _upload(api("admin"), "deploy", other, "other.bpmn")
    assert refused.status_code == 422 and refused.get_json()["problems"] == [p]


def test_upload_refusals_follow_the_users_language(api):
    r = _upload(api("admin"), "validate", b"x", "notes.txt", lang="en")
    assert r.get_json()["errors"]["file"] == ["Only .bpmn or .xml files are accepted."]


def test_all_reference_files_from_other_tools_are_opened_or_refused_never_deployed(api):
    assert len(MIWG_FILES) == 18
    admin = api("admin")
    for path in MIWG_FILES:
        content = path.read_bytes()
        name = path.name.replace(".BPMN", ".bpmn")
        checked = _upload(admin, "validate", content, name)
        # Each opens in the modeler (its XML comes back) with the reasons it cannot be deployed.
        assert checked.status_code == 200, (path.name, checked.get_data(as_text=True))
        body = checked.get_json()
        assert body["xml"] == content.decode("utf-8") and not body["valid"], path.name
        assert body["problems"], path.name  # none of them has our process id and lanes
        assert all(p["message"] and p["file"] == name for p in body["problems"]), path.name
        deployed = _upload(admin, "deploy", content, name)
        assert deployed.status_code == 422 and deployed.get_json()["problems"], path.name
    assert [v["version"] for v in admin.get(BASE).get_json()["versions"]] == [1]


def test_reference_file_renamed_to_our_process_opens_and_is_refused_with_reasons(api):
    xml = (MIWG / "A.1.1.bpmn").read_text(encoding="utf-8")
    import re

    first = re.search(r'<(\w+:)?process [^>]*id="([^"]+)"', xml).group(2)
    r = _upload(api("admin"), "validate", xml.replace(f'"{first}"', '"crane_registration"').encode(), "A.1.1.bpmn")
    assert r.status_code == 200 and not r.get_json()["valid"]
    assert all(p["message"] for p in r.get_json()["problems"])


def test_diff_between_versions_names_what_changed(api):
    admin = api("admin")
    edited = (SOURCE.replace('name="备案审核"', 'name="备案审查"')
              .replace('decision == "reject"', 'decision == "refuse"')
              .replace('value="filing_review"', 'value="decision_review"'))
    assert _raw(admin, "deploy", edited).status_code == 201
    r = admin.get(f"{BASE}/diff?from=1&to=2")
    assert r.status_code == 200
    changes = {c["id"]: c for c in r.get_json()["changes"]}
    assert set(changes) == {"review_filing", "flow_reject"}
    fields = {f["field"]: (f["before"], f["after"]) for f in changes["review_filing"]["fields"]}
    assert fields == {"name": ("备案审核", "备案审查"), "formKey": ("filing_review", "decision_review")}
    assert changes["flow_reject"]["fields"] == [{"field": "condition", "before": 'decision == "reject"',
                                                 "after": 'decision == "refuse"'}]
    assert admin.get(f"{BASE}/diff?from=1&to=1").status_code == 422
    assert admin.get(f"{BASE}/diff?from=1&to=7").status_code == 404
    missing = admin.get(f"{BASE}/diff?from=x")
    assert missing.status_code == 422 and set(missing.get_json()["errors"]) == {"from", "to"}


def test_migration_api_previews_and_migrates(api):
    admin = api("admin")
    case = start_filing(api("owner_wuhan"), serial="STUDIO-MIG")
    _raw(admin, "deploy", SOURCE.replace('name="备案审核"', 'name="备案审查"'))
    preview = admin.get(f"{BASE}/migration?from=1&to=2").get_json()["items"]
    assert [(row["case_id"], row["eligible"]) for row in preview] == [(case["id"], True)]
    r = admin.post(f"{BASE}/migration", json={"from_version": 1, "to_version": 2, "case_ids": [case["id"]]})
    assert r.status_code == 200 and r.get_json()["results"] == [{"case_id": case["id"], "migrated": True,
                                                                  "reason": None}]
    assert api("owner_wuhan").get(f"/api/v1/cases/{case['id']}").get_json()["definition_version"] == 2
    empty = admin.post(f"{BASE}/migration", json={"from_version": 1, "to_version": 2, "case_ids": []})
    assert empty.status_code == 422 and "case_ids" in empty.get_json()["errors"]


@pytest.mark.parametrize("username", ["owner_wuhan", "reg_province"])
def test_non_admins_are_refused(api, username):
    user = api(username)
    assert user.get("/api/v1/studio/processes").status_code == 403
    assert _raw(user, "deploy", SOURCE.replace('name="备案审核"', 'name="x"')).status_code == 403
    assert user.post(f"{BASE}/migration", json={"from_version": 1, "to_version": 2, "case_ids": [1]}).status_code == 403
    assert api("admin").get(BASE).get_json()["versions"][0]["version"] == 1


@pytest.mark.parametrize("lang,expected", [
    ("zh_CN", ["泳道“质监站”未在流程目录中对应到角色。", "未知的服务操作“os.system”。"]),
    ("en", ["lane '质监站' is not mapped to a role in the catalog", "unknown service operator 'os.system'"]),
])
def test_problems_are_told_in_the_users_language(api, lang, expected):
    broken = (SOURCE.replace('name="备案机关"', 'name="质监站"')
              .replace('id="crane_filing.reject"', 'id="os.system"'))
    admin = api("admin")
    checked = _raw(admin, "validate", broken, lang=lang).get_json()["problems"]
    refused = _raw(admin, "deploy", broken, lang=lang)
    assert refused.status_code == 422
    for problems in (checked, refused.get_json()["problems"]):
        messages = [p["message"] for p in problems]
        assert all(any(m == e for m in messages) for e in expected), messages
        assert {p["code"] for p in problems} >= {"lane_unmapped", "operator_unknown"}
