"""The safety technical archive (安全技术档案) of a crane: the timeline, the ZIP with every file and
its hash, who may have it, and the crane page's archive section."""
import csv
import hashlib
import io
import json
import zipfile
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy.orm import Session

from engine.db import Attachment
from tests import helpers
from tests.integration import test_inspection_api as checks
from tests.integration import test_installation_api as site
from tests.integration.test_personnel_pages import _login


@pytest.fixture
def uploads(monkeypatch):
    """Every upload of the test gets its own bytes; attachment id → the bytes sent."""
    sent, upload = {}, helpers.upload

    def distinct(api_client, content=helpers.PDF, name="doc.pdf"):
        body = content + f"% {name} #{len(sent)}\n".encode()
        attachment_id = upload(api_client, content=body, name=name)
        sent[attachment_id] = body
        return attachment_id

    monkeypatch.setattr(helpers, "upload", distinct)
    monkeypatch.setattr(site, "upload", distinct)
    monkeypatch.setattr(checks, "upload", distinct)
    return sent


@pytest.fixture
def crane(api, uploads):
    """Filed after one return for correction, installed, accepted and registered for use."""
    site.register(api, "installer_wuhan", site.CREW)
    case = helpers.start_filing(api("owner_wuhan"), serial="ARCHIVE-1")
    site.complete(api, "reg_wuhan", case["id"], {"decision": "return", "reason": "产品合格证照片不清晰"})
    task = site.task_of(api, "owner_wuhan", case["id"])
    site.complete(api, "owner_wuhan", case["id"], api("owner_wuhan").get(f"/api/v1/tasks/{task['id']}").get_json()["data"])
    site.complete(api, "reg_wuhan", case["id"], {"decision": "approve"})
    site.registered(api, case["subject"]["id"])
    return case["subject"]["id"]


def download(client, crane_id, **kw):
    r = client.get(f"/api/v1/cranes/{crane_id}/archive.zip", buffered=True, **kw)
    assert r.status_code == 200, r.get_data(as_text=True)
    return r, zipfile.ZipFile(io.BytesIO(r.data))


def steps(timeline):
    return [(e["process_key"], e["step"]) for e in timeline if e["kind"] == "step"]


FILING = [("crane_registration", s) for s in ("submit_filing", "review_filing", "correct_filing", "review_filing")]
INSTALLATION = [("installation_notice", s) for s in (
    "submit_notice", "contractor_review", "supervisor_review", "review_notice", "self_inspection", "inspection_report",
    "signoff_user", "signoff_owner", "signoff_installer", "signoff_supervisor")]
REGISTRATION = [("use_registration", "apply_registration"), ("use_registration", "review_registration")]


def test_the_zip_holds_every_file_with_its_hash_and_the_timeline_in_order(api, crane, uploads):
    number = site.record_number(api, crane)
    r, zf = download(api("owner_wuhan"), crane)
    assert r.mimetype == "application/zip"
    disposition = r.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and quote(f"安全技术档案-{number}.zip") in disposition
    assert f'filename="safety-archive-{number[1:]}.zip"' in disposition  # 鄂 left out of the ASCII name
    manifest = json.loads(zf.read("manifest.json"))
    assert manifest["crane"]["record_number"] == number and manifest["crane"]["status"] == "in_use"
    # Every file the owner and the other parties uploaded is there, byte for byte, as listed.
    files = manifest["files"]
    assert {f["attachment_id"] for f in files} == set(uploads) and manifest["missing_files"] == []
    assert set(zf.namelist()) == {f["path"] for f in files} | {"manifest.json", "timeline.csv"}
    for f in files:
        data = zf.read(f["path"])
        assert (len(data), hashlib.sha256(data).hexdigest()) == (f["size"], f["sha256"]), f["path"]
        assert data == uploads[f["attachment_id"]] and f["matches_upload"]
    timeline = manifest["timeline"]
    assert steps(timeline) == FILING + INSTALLATION + REGISTRATION
    times = [datetime.fromisoformat(e["at"]) for e in timeline]
    assert times == sorted(times)
    # The filing documents under documents/, the notice's package under its case's folder.
    documents = [e for e in timeline if e["kind"] == "document"]
    assert sorted(e["doc_type"] for e in documents) == sorted(
        ["manufacturing_licence", "product_certificate", "supervision_certificate", "ownership_proof"])
    assert all(e["file"]["path"].startswith(f"documents/{e['doc_type']}/") for e in documents)
    assert {e["business_key"] for e in documents} == {timeline[0]["business_key"]}
    scheme = next(e for e in timeline if e.get("doc_type") == "installation_scheme")
    assert scheme["kind"] == "attachment" and scheme["step"] == "submit_notice"
    assert scheme["file"]["path"].startswith(f"cases/{scheme['business_key']}-installation_notice/")
    # The case starts before its first submission; the return reason and the state changes are there.
    assert (timeline[0]["kind"], timeline[0]["action"], timeline[1]["step"]) == ("event", "start", "submit_filing")
    returned = [e for e in timeline if e["kind"] == "step" and e["step"] == "review_filing"][0]
    assert returned["summary"] == "审核结论：退回补正；理由 / 补正意见：产品合格证照片不清晰"
    assert "设备状态变更：已备案（闲置） → 已告知（安装中）" in [e["title"] for e in timeline if e["kind"] == "event"]
    # The same timeline as a spreadsheet (UTF-8 with BOM) and through the JSON endpoint.
    raw = zf.read("timeline.csv")
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:3] == ["时间", "类型", "业务编号"] and len(rows) == len(timeline) + 1
    assert "填报备案申请" in [row[4] for row in rows]
    assert api("owner_wuhan").get(f"/api/v1/cranes/{crane}/archive").get_json() == {
        "crane": manifest["crane"], "timeline": timeline}
    _, english = download(api("owner_wuhan"), crane, headers={"Accept-Language": "en"})
    assert english.read("timeline.csv").decode("utf-8-sig").startswith("Time,Kind,Case no.")


def test_each_user_gets_the_cases_they_may_see_and_others_get_404(api, crane):
    timelines = {u: api(u).get(f"/api/v1/cranes/{crane}/archive").get_json()["timeline"]
                 for u in ("reg_wuhan", "reg_province", "admin", "contractor_wuhan", "inspector_wuhan")}
    assert steps(timelines["reg_wuhan"]) == steps(timelines["reg_province"]) == steps(timelines["admin"]) == (
        FILING + INSTALLATION + REGISTRATION)
    # The contractor is named on the notice and applied for the registration, but not on the filing;
    # the inspection body only on the notice. Both still see the crane's filing documents.
    assert steps(timelines["contractor_wuhan"]) == INSTALLATION + REGISTRATION
    assert steps(timelines["inspector_wuhan"]) == INSTALLATION
    for username in ("contractor_wuhan", "inspector_wuhan"):
        assert len([e for e in timelines[username] if e["kind"] == "document"]) == 4
    _, zf = download(api("inspector_wuhan"), crane)
    assert not [name for name in zf.namelist() if "use_registration" in name]
    for username in ("reg_yichang", "owner_yichang"):
        for url in (f"/api/v1/cranes/{crane}/archive", f"/api/v1/cranes/{crane}/archive.zip"):
            r = api(username).get(url, buffered=True)
            assert r.status_code == 404 and r.get_json()["error"] == "not_found", (username, url)
    assert api("admin").get("/api/v1/cranes/999999/archive.zip", buffered=True).status_code == 404


def test_a_file_gone_from_storage_is_listed_as_missing(app, api, world, uploads):
    crane_id = helpers.approved_crane(api, "ARCHIVE-2")
    documents = api("owner_wuhan").get(f"/api/v1/cranes/{crane_id}").get_json()["documents"]
    gone = documents[0]["attachment_id"]
    with Session(world.engine) as s:
        (Path(app.config["UPLOAD_DIR"]) / s.get(Attachment, gone).storage_path).unlink()
    _, zf = download(api("owner_wuhan"), crane_id)
    manifest = json.loads(zf.read("manifest.json"))
    assert [m["attachment_id"] for m in manifest["missing_files"]] == [gone]
    assert {f["attachment_id"] for f in manifest["files"]} == {d["attachment_id"] for d in documents} - {gone}
    assert len(zf.namelist()) == len(documents) - 1 + 2


def test_hazards_naming_the_crane_join_its_archive_with_their_photos(api, crane, uploads):
    site.register(api, "contractor_wuhan", [checks.MANAGER])
    number = site.record_number(api, crane)
    photo = helpers.upload(api("reg_wuhan"), name="hazard-photo.pdf")
    case = checks.start_check(api, hazards=[checks.hazard(crane_record_number=number, photos=[photo]),
                                            checks.hazard(description="临边防护缺失", category="work_at_height")])
    timeline = api("owner_wuhan").get(f"/api/v1/cranes/{crane}/archive").get_json()["timeline"]
    (inspection,) = [e for e in timeline if e["kind"] == "inspection"]
    (hazard,) = [e for e in timeline if e["kind"] == "hazard"]  # the other hazard is not about the crane
    assert inspection["case_id"] == hazard["case_id"] == case["id"]
    assert inspection["data"]["notice_number"].startswith("鄂A整改") and hazard["summary"] == "标准节连接螺栓缺失 2 颗"
    assert [f["attachment_id"] for f in hazard["files"]] == [photo]
    _, zf = download(api("owner_wuhan"), crane)
    listed = {f["attachment_id"]: f["path"] for f in json.loads(zf.read("manifest.json"))["files"]}
    assert zf.read(listed[photo]) == uploads[photo]
    assert listed[photo].startswith(f"cases/{case['business_key']}-inspection_rectification/")


def test_the_crane_page_shows_the_archive_and_its_download(app, api, crane):
    owner = app.test_client()
    _login(owner, "owner_wuhan")
    page = owner.get(f"/cranes/{crane}").get_data(as_text=True)
    assert "安全技术档案" in page and f'href="/api/v1/cranes/{crane}/archive.zip"' in page
    assert page.count('<li data-kind="step">') == len(FILING + INSTALLATION + REGISTRATION)
    assert "产品合格证照片不清晰" in page and "设备状态变更：已备案（闲置） → 已告知（安装中）" in page
    # The owner opens its own filing documents from the page; the user's registration papers only
    # come in the archive download.
    assert 'data-kind="document"' in page and "/attachments/" in page
    r = owner.get(f"/api/v1/cranes/{crane}/archive.zip")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    r.close()
