"""The public verification portal: look-up of public facts only, the QR link, uploaded PDFs checked
(genuine, altered, forged, not a certificate), upload rules, and the per-IP rate limit."""
import hashlib
import io
import json

import pytest
from pypdf import PdfReader, PdfWriter
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import Enterprise, IssuedCertificate
from engine.services import certificates
from tests.conftest import csrf_from
from tests.helpers import PDF, approved_crane, open_task_id

# Personal data of the demo people that must never appear on the portal.
PERSONAL = ("张伟", "陈静", "王芳", "李强", "孙建国", "13907181234", "420106198001011234",
            "owner_wuhan@example.com", "reg_wuhan@example.gov.cn", "王五", "11010519491231002X")


@pytest.fixture(autouse=True)
def _fresh_rate_limit(app):
    from web.ratelimit import counter

    counter(app).reset()
    yield
    counter(app).reset()


@pytest.fixture
def filed(api, world):
    """An approved Wuhan crane whose owner has a contact person, a phone and a registered person."""
    crane_id = approved_crane(api, "VERIFY-1")
    with Session(world.engine) as s:
        owner = s.get(Enterprise, world.user("owner_wuhan").enterprise_id)
        owner.contact_person, owner.contact_phone = "张伟", "13907181234"
        owner.legal_representative, owner.legal_representative_id = "王芳", "420106198001011234"
        s.commit()
        cert = s.scalar(select(IssuedCertificate).where(IssuedCertificate.crane_id == crane_id))
        s.expunge(cert)
    person = api("owner_wuhan").post("/api/v1/personnel", json={"name": "王五", "id_number": "11010519491231002X"})
    assert person.status_code == 201
    pdf = api("owner_wuhan").get(f"/api/v1/cranes/{crane_id}/certificates/filing").get_data()
    record = api("owner_wuhan").get(f"/api/v1/cranes/{crane_id}").get_json()
    return {"crane": crane_id, "cert": cert, "pdf": pdf, "record": record}


def _upload(client, content, name="certificate.pdf"):
    """The multipart body built here: for bodies over 500 KB Werkzeug's test client spools the
    encoded body to a temporary file it never closes (a ResourceWarning, an error in this suite)."""
    token = csrf_from(client.get("/verify").get_data(as_text=True))
    boundary = "----craneflow-verify-boundary"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: application/pdf\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return client.post("/verify/upload", data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _pdf_literal(text: str) -> bytes:
    """ASCII text as the embedded TrueType font writes it in a page's content: as is (its first subset
    keeps the ASCII codes)."""
    return text.encode("ascii")


def _state(response) -> str:
    html = response.get_data(as_text=True)
    return html.split('data-testid="verdict" data-state="', 1)[1].split('"', 1)[0]


def test_lookup_by_record_number_shows_public_facts_and_no_personal_data(client, filed):
    record = filed["record"]
    r = client.get("/verify", query_string={"q": record["record_number"]})
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    for fact in (record["record_number"], "塔式起重机", record["model"], record["manufacturer"],
                 "武汉鑫塔建筑机械租赁有限公司", "已备案（闲置）", filed["cert"].data["printed_number"], "有效"):
        assert fact in html, fact
    for secret in PERSONAL + ("manufacturing_licence.pdf", "/attachments/"):
        assert secret not in html, secret


def test_lookup_by_certificate_number_in_either_form_with_the_verification_code(client, filed):
    cert = filed["cert"]
    for query in (cert.number, cert.data["printed_number"]):
        r = client.get("/verify", query_string={"q": query, "code": certificates.verification_code(cert.signature)})
        html = r.get_data(as_text=True)
        assert r.status_code == 200 and 'data-testid="code-ok"' in html
        assert f'data-number="{cert.number}" data-status="valid" class="matched"' in html
    r = client.get("/verify", query_string={"q": cert.number, "code": "AAAA-BBBB-CCCC"})
    assert 'data-testid="code-wrong"' in r.get_data(as_text=True)
    r = client.get("/verify", query_string={"q": "鄂A-T209900001"})
    assert r.status_code == 404 and 'data-testid="not-found"' in r.get_data(as_text=True)
    r = client.get("/verify", query_string={"q": ""})
    assert r.status_code == 200 and "请输入备案编号或证明编号" in r.get_data(as_text=True)


def test_qr_link_with_a_tampered_signature_or_unknown_number_is_invalid(client, filed):
    cert = filed["cert"]
    good = client.get(f"/verify/c/{cert.number}?s={cert.signature}")
    assert good.status_code == 200 and _state(good) == "valid"
    for html in (good.get_data(as_text=True),):
        assert not any(secret in html for secret in PERSONAL)
    flipped = ("A" if cert.signature[0] != "A" else "B") + cert.signature[1:]
    for query in (f"?s={flipped}", "", "?s=not-base64!!", f"?s={cert.signature[:-4]}"):
        r = client.get(f"/verify/c/{cert.number}{query}")
        assert r.status_code == 200 and _state(r) == "invalid" and "无效" in r.get_data(as_text=True)
    r = client.get(f"/verify/c/BA-A-2026999999?s={cert.signature}")
    assert r.status_code == 404 and _state(r) == "invalid"


def test_uploaded_pdf_is_genuine_altered_forged_or_not_a_certificate(client, filed):
    pdf = filed["pdf"]
    assert _state(_upload(client, pdf)) == "genuine"

    # A printed fact changed in the page content; the signed data left as it was.
    reader = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter(clone_from=reader)
    content = writer.pages[0].get_contents()
    text = content.get_data()
    serial = _pdf_literal("VERIFY-1")
    assert text.count(serial) == 1
    content.set_data(text.replace(serial, _pdf_literal("VERIFY-9")))
    writer.add_metadata(dict(reader.metadata))
    altered = io.BytesIO()
    writer.write(altered)
    r = _upload(client, altered.getvalue())
    assert r.status_code == 200 and _state(r) == "altered" and "已被篡改" in r.get_data(as_text=True)

    # The embedded data rewritten (another owner), the signature kept: it no longer verifies.
    data = dict(filed["cert"].data, owner_name="伪造起重机械有限公司")
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.add_metadata({**dict(reader.metadata), "/CraneFlowData": certificates.b64url(certificates.canonical(data))})
    forged = io.BytesIO()
    writer.write(forged)
    r = _upload(client, forged.getvalue())
    assert _state(r) == "forged" and "伪造" in r.get_data(as_text=True)

    plain = PdfWriter()
    plain.add_blank_page(width=200, height=200)
    other = io.BytesIO()
    plain.write(other)
    r = _upload(client, other.getvalue())
    assert _state(r) == "not_certificate"


def _altered(pdf: bytes, before: str, after: str) -> bytes:
    """The PDF with a printed fact changed in the page content, the signed data left as it was."""
    reader = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter(clone_from=reader)
    content = writer.pages[0].get_contents()
    content.set_data(content.get_data().replace(_pdf_literal(before), _pdf_literal(after)))
    writer.add_metadata(dict(reader.metadata))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_upload_of_a_certificate_never_downloaded_is_checked_against_a_fresh_rendering(client, api, world):
    """No hash recorded yet (the PDF came from elsewhere than a download): the check renders the
    certificate, records that hash and still tells an altered copy from the genuine one."""
    crane_id = approved_crane(api, "VERIFY-LAZY")

    def stored():
        with Session(world.engine) as s:
            return s.scalar(select(IssuedCertificate).where(IssuedCertificate.crane_id == crane_id))

    cert = stored()
    assert cert.pdf_sha256 is None
    pdf = certificates.pdf_of(cert)
    r = _upload(client, _altered(pdf, "VERIFY-LAZY", "VERIFY-LAZZ"))
    assert _state(r) == "altered"
    assert stored().pdf_sha256 == hashlib.sha256(pdf).hexdigest()  # the first check recorded it
    with Session(world.engine) as s:  # and once more with nothing recorded, a genuine copy
        s.get(IssuedCertificate, cert.id).pdf_sha256 = None
        s.commit()
    assert _state(_upload(client, pdf)) == "genuine"
    assert stored().pdf_sha256 == hashlib.sha256(pdf).hexdigest()


def test_upload_rules_answer_4xx_naming_the_rule(client, filed):
    r = _upload(client, b"PK\x03\x04 not a pdf", name="certificate.zip")
    assert r.status_code == 422 and "%PDF-" in r.get_data(as_text=True)
    r = _upload(client, PDF + b"\x00" * (5 * 1024 * 1024))
    assert r.status_code == 413 and "5 MB" in r.get_data(as_text=True)
    r = _upload(client, PDF)  # starts like a PDF but is none
    assert r.status_code == 422 and "无法读取" in r.get_data(as_text=True)
    token = csrf_from(client.get("/verify").get_data(as_text=True))
    r = client.post("/verify/upload", data={"csrf_token": token}, content_type="multipart/form-data")
    assert r.status_code == 422 and "请选择" in r.get_data(as_text=True)
    r = client.post("/verify/upload", data={"file": (io.BytesIO(filed["pdf"]), "c.pdf")},
                    content_type="multipart/form-data")
    assert r.status_code == 400  # no CSRF token


def test_revoked_certificate_is_reported_with_its_date_on_upload_and_lookup(client, api, filed):
    owner, reg = api("owner_wuhan"), api("reg_wuhan")
    case = owner.post("/api/v1/cases", json={"process_key": "record_cancellation",
                                             "data": {"crane_id": filed["crane"], "reason": "scrapped"}}).get_json()
    assert reg.post(f"/api/v1/tasks/{open_task_id(case)}/complete",
                    json={"data": {"decision": "approve"}}).status_code == 200
    r = _upload(client, filed["pdf"])
    assert _state(r) == "genuine-revoked" and "已注销" in r.get_data(as_text=True)
    html = client.get("/verify", query_string={"q": filed["record"]["record_number"]}).get_data(as_text=True)
    assert "备案注销" in html and 'data-status="revoked"' in html


def test_portal_is_rate_limited_per_client_ip(app, client, monkeypatch, filed):
    monkeypatch.setitem(app.config, "VERIFY_RATE_LIMIT", 3)
    for _ in range(3):
        assert client.get("/verify").status_code == 200
    r = client.get("/verify", query_string={"q": filed["record"]["record_number"]})
    assert r.status_code == 429
    assert 1 <= int(r.headers["Retry-After"]) <= 60 and "请求过于频繁" in r.get_data(as_text=True)
    assert client.get(f"/verify/c/{filed['cert'].number}").status_code == 429
    other = app.test_client()
    assert other.get("/verify", environ_base={"REMOTE_ADDR": "10.0.0.7"}).status_code == 200
    assert client.get("/healthz").status_code == 200  # only the portal is limited


def test_forwarded_addresses_count_only_behind_a_trusted_proxy(app, monkeypatch, filed):
    from web import trust_proxies

    monkeypatch.setitem(app.config, "VERIFY_RATE_LIMIT", 2)
    direct = app.test_client()
    spoofed = [direct.get("/verify", environ_base={"REMOTE_ADDR": "192.0.2.77"},
                          headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code for n in range(3)]
    assert spoofed == [200, 200, 429]  # no trusted proxy: a made-up X-Forwarded-For changes nothing

    monkeypatch.setattr(app, "wsgi_app", trust_proxies(app.wsgi_app, 1))
    proxied = app.test_client()

    def via_proxy(client_ip):
        return proxied.get("/verify", environ_base={"REMOTE_ADDR": "10.1.1.1"},
                           headers={"X-Forwarded-For": client_ip}).status_code
    assert [via_proxy("203.0.113.5") for _ in range(3)] == [200, 200, 429]
    assert via_proxy("203.0.113.6") == 200  # another client behind the same proxy has its own budget
    assert trust_proxies(app.wsgi_app, 0) is app.wsgi_app


def test_portal_needs_no_login_and_switches_language_in_place(app, filed):
    client = app.test_client()
    r = client.get("/verify", query_string={"q": filed["record"]["record_number"]})
    assert r.status_code == 200 and "/login" not in r.headers.get("Location", "")
    back = client.get("/lang/en", headers={"Referer": f"http://localhost/verify?q={filed['record']['record_number']}"})
    assert back.status_code == 302 and back.headers["Location"].startswith("/verify?q=")
    html = client.get(back.headers["Location"]).get_data(as_text=True)
    assert "Tower crane" in html and "中文" in html
    # A logged-in user sees the same page, without its name.
    from tests.integration.test_pages_security import _browser

    html = _browser(app, "owner_wuhan").get(f"/verify?q={filed['record']['record_number']}").get_data(as_text=True)
    assert "张伟" not in html and "退出" not in html


def test_signed_data_in_the_pdf_is_the_register_entry(filed):
    info = PdfReader(io.BytesIO(filed["pdf"])).metadata
    assert json.loads(certificates.unb64url(info["/CraneFlowData"])) == filed["cert"].data
    assert info["/CraneFlowNumber"] == filed["cert"].number
