"""Uploads: type sniffed from the bytes, size limits, storage outside the web root, safe downloads."""
import hashlib
import io
import re
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from engine.db import Attachment
from engine.services.settings import get_settings
from forms import t
from tests.helpers import PDF, PNG

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + b"\x00" * 64 + b"\xff\xd9"
STORAGE_NAME = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{32}\.(pdf|jpg|png)$")


def _post(api_client, content, name="doc.pdf", field="file", lang=None):
    url = "/api/v1/attachments" + ("?lang=en" if lang == "en" else "")
    return api_client.post(url, data={field: (io.BytesIO(content), name)}, content_type="multipart/form-data")


def _post_raw(api_client, content, name):
    """Multipart body built here: for bodies over 500 KB Werkzeug's test client spools the encoded
    body to a temporary file it never closes (a ResourceWarning, which this suite treats as an error)."""
    boundary = "----craneflow-test-boundary"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return api_client.post("/api/v1/attachments", data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")


def _stored_files() -> set[Path]:
    root = get_settings().upload_dir
    return {p for p in root.rglob("*") if p.is_file()}


def _row(world, attachment_id) -> Attachment:
    with Session(world.engine, expire_on_commit=False) as s:
        return s.get(Attachment, attachment_id)


@pytest.fixture(autouse=True)
def _engine_uses_this_apps_upload_dir(app, monkeypatch):
    """create_app() configures process-global engine settings; another create_app() in the same
    process (tests/integration/test_migrations.py) re-points them. Pin them to this app's config."""
    monkeypatch.setattr(get_settings(), "upload_dir", Path(app.config["UPLOAD_DIR"]))


@pytest.fixture
def owner(api):
    return api("owner_wuhan")


@pytest.mark.parametrize(("content", "name", "content_type"), [
    (PDF, "licence.pdf", "application/pdf"),
    (JPEG, "photo.jpg", "image/jpeg"),
    (PNG, "photo.png", "image/png"),
    (PNG + b"\x01" * 4096, "scan.PNG", "image/png"),
])
def test_pdf_jpeg_png_are_stored_with_hash_size_and_type(owner, world, content, name, content_type):
    r = _post(owner, content, name)
    assert r.status_code == 201, r.get_data(as_text=True)
    body = r.get_json()
    assert body["sha256"] == hashlib.sha256(content).hexdigest()
    assert body["size"] == len(content)
    assert body["content_type"] == content_type
    assert body["name"] == name
    row = _row(world, body["id"])
    assert (row.sha256, row.size, row.content_type) == (body["sha256"], len(content), content_type)
    assert row.enterprise_id == world.user("owner_wuhan").enterprise_id
    download = owner.get(f"/api/v1/attachments/{body['id']}", buffered=True)
    assert download.status_code == 200
    assert download.data == content
    assert download.mimetype == content_type


def test_type_comes_from_the_bytes_not_the_name(owner):
    r = _post(owner, PNG, "looks-like.pdf")
    assert r.status_code == 201
    assert r.get_json()["content_type"] == "image/png"


@pytest.mark.parametrize(("content", "name"), [
    (b"<!doctype html><html><script>alert(1)</script></html>", "report.pdf"),
    (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "photo.png"),
    (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64, "licence.pdf"),
    (b"PK\x03\x04" + b"\x00" * 64, "docs.pdf"),
    (b" %PDF-1.4 leading space", "almost.pdf"),
    (b"plain text", "notes.txt"),
], ids=["html", "svg", "exe", "zip", "pdf-magic-not-at-start", "text"])
def test_content_that_is_not_pdf_jpeg_or_png_is_refused_whatever_its_name(owner, content, name):
    before = _stored_files()
    r = _post(owner, content, name)
    assert r.status_code == 422
    assert r.get_json()["errors"] == {"file": [t("file_type", "zh_CN")]}
    assert _stored_files() == before


def test_refusal_message_follows_the_language(owner):
    r = _post(owner, b"<html></html>", "x.pdf", lang="en")
    assert r.status_code == 422
    assert r.get_json()["errors"]["file"] == [t("file_type", "en")]


def test_empty_file_is_refused(owner):
    before = _stored_files()
    r = _post(owner, b"", "empty.pdf")
    assert r.status_code == 422
    assert r.get_json()["errors"] == {"file": [t("file_empty", "zh_CN")]}
    assert _stored_files() == before


@pytest.mark.parametrize("field", [None, "document"], ids=["no-field", "wrong-field-name"])
def test_upload_without_the_file_field_is_refused(owner, field):
    if field is None:
        r = owner.post("/api/v1/attachments", data={"note": "nothing attached"}, content_type="multipart/form-data")
    else:
        r = _post(owner, PDF, field=field)
    assert r.status_code == 422
    assert r.get_json()["errors"] == {"file": [t("required", "zh_CN")]}


def test_json_body_instead_of_a_file_is_refused(owner):
    r = owner.post("/api/v1/attachments", json={"file": "JVBERi0xLjQ="})
    assert r.status_code == 422
    assert "file" in r.get_json()["errors"]


def test_file_over_the_configured_limit_is_refused_and_not_kept(owner, monkeypatch):
    limit = 1024 * 1024
    monkeypatch.setattr(get_settings(), "max_upload_bytes", limit)
    before = _stored_files()
    at_limit = _post_raw(owner, PDF + b"0" * (limit - len(PDF)), "exactly.pdf")
    assert at_limit.status_code == 201 and at_limit.get_json()["size"] == limit
    kept = _stored_files()
    assert len(kept - before) == 1
    r = _post_raw(owner, PDF + b"0" * (limit + 1 - len(PDF)), "one-byte-over.pdf")
    assert r.status_code == 422
    assert r.get_json()["errors"] == {"file": [t("file_too_large", "zh_CN", limit="1 MB")]}
    assert _stored_files() == kept  # the partly written file was removed


def test_request_over_max_content_length_is_413(app, owner, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 4096)
    before = _stored_files()
    r = _post(owner, PDF + b"0" * 8192, "big.pdf")
    assert r.status_code == 413
    assert r.get_json()["error"] == "request_entity_too_large"
    assert _stored_files() == before


def test_configured_limits_are_restored_after_the_limit_tests(app):
    assert get_settings().max_upload_bytes == app.config["MAX_UPLOAD_MB"] * 1024 * 1024
    assert app.config["MAX_CONTENT_LENGTH"] == (app.config["MAX_UPLOAD_MB"] + 1) * 1024 * 1024


def test_stored_file_lives_under_the_upload_dir_not_the_web_root(app, owner, world, client):
    r = _post(owner, PDF, "licence.pdf")
    row = _row(world, r.get_json()["id"])
    assert STORAGE_NAME.match(row.storage_path), row.storage_path
    upload_dir = Path(app.config["UPLOAD_DIR"]).resolve()
    stored = (upload_dir / row.storage_path).resolve()
    assert stored.is_file() and stored.read_bytes() == PDF
    assert stored.is_relative_to(upload_dir)
    assert not stored.is_relative_to(Path(app.static_folder).resolve())
    assert not stored.is_relative_to(Path(app.root_path).resolve())  # the web/ package
    assert client.get(f"/static/{row.storage_path}").status_code == 404
    assert client.get(f"/static/{stored.name}").status_code == 404


def test_download_is_an_attachment_with_nosniff(owner):
    att_id = _post(owner, PDF, "产权证明.pdf").get_json()["id"]
    r = owner.get(f"/api/v1/attachments/{att_id}", buffered=True)
    assert r.status_code == 200
    assert r.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E4%BA%A7%E6%9D%83%E8%AF%81%E6%98%8E.pdf" in r.headers["Content-Disposition"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Content-Type"] == "application/pdf"
    assert r.data == PDF


@pytest.mark.parametrize(("name", "expected"), [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("/etc/cron.d/job.pdf", "job.pdf"),
    ("..", "upload"),
    ("../..", "upload"),
    ("..\\..\\windows\\win.pdf", None),
    ("%2e%2e%2fsecret.pdf", "%2e%2e%2fsecret.pdf"),
    ("", "upload"),
])
def test_path_traversal_file_names_are_neutralised(app, owner, world, name, expected):
    before = _stored_files()
    r = _post(owner, PDF, name)
    assert r.status_code == 201, r.get_data(as_text=True)
    stored_name = r.get_json()["name"]
    assert "/" not in stored_name and "\\" not in stored_name and stored_name not in (".", "..")
    if expected is not None:
        assert stored_name == expected
    row = _row(world, r.get_json()["id"])
    assert STORAGE_NAME.match(row.storage_path)
    new = _stored_files() - before
    assert len(new) == 1
    (path,) = new
    assert path.resolve().is_relative_to(Path(app.config["UPLOAD_DIR"]).resolve())
    download = owner.get(f"/api/v1/attachments/{row.id}", buffered=True)
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "../" not in disposition and "..\\" not in disposition and "/etc" not in disposition
