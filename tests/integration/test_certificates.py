"""Filing and use registration certificates: issued with the approval, numbered per city, signed,
downloadable as a deterministic PDF by whoever sees the crane (the first download records its
hash), superseded and revoked with the facts they certify."""
import hashlib
import io
import json
import threading
from datetime import datetime
from urllib.parse import urlsplit

import pypdfium2
import pytest
import zxingcpp
from cryptography.exceptions import InvalidSignature
from pypdf import PdfReader
from sqlalchemy import delete, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from engine.db import AuditEvent, Crane, IssuedCertificate, utcnow
from engine.db.uow import unit_of_work
from engine.services import certificate_pdf, certificates
from engine.services.settings import CHINA_TZ
from tests.helpers import approved_crane, open_task_id, start_filing
from tests.integration.test_installation_api import (CREW, complete, dismantling_data, register, registered)
from tests.integration.test_pages_security import _browser


@pytest.fixture(autouse=True)
def _fresh_rate_limit(app):
    from web.ratelimit import counter

    counter(app).reset()
    yield
    counter(app).reset()


def _certs(world, crane_id):
    with Session(world.engine) as s:
        return s.scalars(select(IssuedCertificate).where(IssuedCertificate.crane_id == crane_id)
                         .order_by(IssuedCertificate.id)).all()


def _download(client, crane_id, kind="filing"):
    return client.get(f"/api/v1/cranes/{crane_id}/certificates/{kind}")


def qr_url(pdf: bytes) -> str:
    """Render the first page and decode its QR code."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        page = document[0]
        image = page.render(scale=2).to_pil()
        page.close()
    finally:
        document.close()
    (code,) = zxingcpp.read_barcodes(image)
    return code.text


def embedded(pdf: bytes) -> tuple[dict, str]:
    info = PdfReader(io.BytesIO(pdf)).metadata
    return json.loads(certificates.unb64url(info["/CraneFlowData"])), info["/CraneFlowSignature"]


def test_approving_a_filing_issues_a_signed_certificate_whose_qr_code_verifies(app, api, world):
    crane_id = approved_crane(api, "CERT-1")
    (cert,) = _certs(world, crane_id)
    assert (cert.kind, cert.status, cert.authority_region_code) == ("filing", "valid", "420100")
    record_number = api("owner_wuhan").get(f"/api/v1/cranes/{crane_id}").get_json()["record_number"]
    assert cert.data["record_number"] == record_number and cert.data["authority"] == "武汉市住房和城乡建设局"
    assert certificates.printed_number(cert.number).startswith("鄂A建机备证〔")
    assert cert.pdf_sha256 is None  # not rendered in the approval

    r = _download(api("owner_wuhan"), crane_id)
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    pdf = r.get_data()
    (cert,) = _certs(world, crane_id)
    assert pdf.startswith(b"%PDF-") and hashlib.sha256(pdf).hexdigest() == cert.pdf_sha256
    assert _download(api("owner_wuhan"), crane_id).get_data() == pdf  # deterministic
    data, signature = embedded(pdf)
    assert data == cert.data and signature == cert.signature
    assert PdfReader(io.BytesIO(pdf)).metadata["/CreationDate"].startswith(
        "D:" + cert.issued_at.strftime("%Y%m%d%H%M%S"))

    url = qr_url(pdf)
    assert url == f"{app.config['PUBLIC_BASE_URL']}/verify/c/{cert.number}?s={cert.signature}"
    parts = urlsplit(url)
    page = app.test_client().get(f"{parts.path}?{parts.query}")  # not logged in
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-state="valid"' in html and "有效" in html and record_number in html


def test_only_those_who_see_the_crane_download_its_certificate(app, api, world):
    crane_id = approved_crane(api, "CERT-2")
    for username, expected in (("owner_wuhan", 200), ("reg_wuhan", 200), ("reg_province", 200),
                               ("owner_yichang", 404), ("reg_yichang", 404), ("contractor_wuhan", 404)):
        r = _download(api(username), crane_id)
        assert r.status_code == expected, (username, r.status_code)
    assert app.test_client().get(f"/api/v1/cranes/{crane_id}/certificates/filing").status_code == 401
    owner = api("owner_wuhan")
    assert _download(owner, crane_id, "use_registration").status_code == 404  # not registered
    assert _download(owner, crane_id, "licence").status_code == 404
    pending = start_filing(owner, serial="CERT-2B")["subject"]["id"]
    assert _download(owner, pending).status_code == 404  # not filed yet
    assert _certs(world, pending) == []


def test_crane_page_offers_the_downloads_of_the_facts_it_has(app, api):
    crane_id = approved_crane(api, "CERT-3")
    html = _browser(app, "owner_wuhan").get(f"/cranes/{crane_id}").get_data(as_text=True)
    assert 'data-testid="download-filing-certificate"' in html and "下载备案证明" in html
    assert "下载使用登记证明" not in html
    assert _browser(app, "owner_yichang").get(f"/cranes/{crane_id}").status_code == 404


def test_a_later_certificate_supersedes_and_cancelling_the_record_revokes(app, api, world):
    crane_id = approved_crane(api, "CERT-4")
    (first,) = _certs(world, crane_id)
    with unit_of_work(world.engine) as s:
        from engine.db import Crane

        certificates.issue(s, s.get(Crane, crane_id), "filing", at=utcnow())
    old, new = _certs(world, crane_id)
    assert (old.status, old.revoked_reason, new.status) == ("superseded", "superseded", "valid")
    assert new.number != old.number
    anonymous = app.test_client()
    html = anonymous.get(f"/verify/c/{old.number}?s={old.signature}").get_data(as_text=True)
    assert 'data-state="superseded"' in html and "已作废" in html

    owner, reg = api("owner_wuhan"), api("reg_wuhan")
    case = owner.post("/api/v1/cases", json={"process_key": "record_cancellation",
                                             "data": {"crane_id": crane_id, "reason": "scrapped"}}).get_json()
    r = reg.post(f"/api/v1/tasks/{open_task_id(case)}/complete", json={"data": {"decision": "approve"}})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert [c.status for c in _certs(world, crane_id)] == ["superseded", "revoked"]
    assert _certs(world, crane_id)[1].revoked_reason == "record_cancelled"
    html = anonymous.get(f"/verify/c/{new.number}?s={new.signature}").get_data(as_text=True)
    assert 'data-state="revoked"' in html and "已注销" in html and "设备备案已注销" in html
    assert _download(owner, crane_id).status_code == 404  # the record is no more


def test_use_registration_certificate_is_issued_and_revoked_by_the_dismantling_notice(app, api, world):
    register(api, "installer_wuhan", CREW)
    crane_id = approved_crane(api, "CERT-5")
    registered(api, crane_id)
    use = [c for c in _certs(world, crane_id) if c.kind == "use_registration"]
    assert [c.status for c in use] == ["valid"]
    data = use[0].data
    assert data["registration_number"].startswith("鄂A-TDJ")
    assert data["installer_name"] == "湖北华安起重设备安装工程有限公司"
    assert data["user_name"] == "武汉城建工程总承包有限公司" and data["project_name"]
    assert certificates.printed_number(use[0].number).startswith("鄂A建机登证〔")
    pdf = _download(api("contractor_wuhan"), crane_id, "use_registration")  # the user on site sees the crane
    assert pdf.status_code == 200 and embedded(pdf.get_data())[0] == data
    html = _browser(app, "owner_wuhan").get(f"/cranes/{crane_id}").get_data(as_text=True)
    assert "下载使用登记证明" in html

    r = api("installer_wuhan").post("/api/v1/cases", json={"process_key": "dismantling_notice",
                                                           "data": dismantling_data(api, crane_id)})
    assert r.status_code == 201, r.get_data(as_text=True)
    by_kind = {c.kind: c for c in _certs(world, crane_id)}
    assert (by_kind["use_registration"].status, by_kind["use_registration"].revoked_reason) == (
        "revoked", "use_registration_cancelled")
    assert by_kind["filing"].status == "valid"
    assert _download(api("owner_wuhan"), crane_id, "use_registration").status_code == 404
    complete(api, "contractor_wuhan", r.get_json()["id"], {"decision": "pass"})  # the case goes on as before


def test_cranes_filed_before_certificates_get_theirs_on_download_or_from_the_cli(app, api, world):
    first, second = approved_crane(api, "CERT-6"), approved_crane(api, "CERT-7")
    with unit_of_work(world.engine) as s:
        s.execute(delete(IssuedCertificate))
    r = _download(api("owner_wuhan"), first)
    assert r.status_code == 200
    (cert,) = _certs(world, first)
    assert hashlib.sha256(r.get_data()).hexdigest() == cert.pdf_sha256
    assert cert.authority_region_code == "420100"  # the city of the filing region
    result = app.test_cli_runner().invoke(args=["craneflow", "issue-certificates"])
    assert result.exit_code == 0 and "certificates issued: 1" in result.output, result.output
    assert [c.kind for c in _certs(world, second)] == ["filing"]
    result = app.test_cli_runner().invoke(args=["craneflow", "issue-certificates"])
    assert "certificates issued: 0" in result.output


def test_public_key_is_published_and_verifies_the_signature(app, api, world):
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    crane_id = approved_crane(api, "CERT-8")
    (cert,) = _certs(world, crane_id)
    r = app.test_client().get("/verify/public-key.pem")
    assert r.status_code == 200 and r.get_data().startswith(b"-----BEGIN PUBLIC KEY-----")
    key = load_pem_public_key(r.get_data())
    key.verify(certificates.unb64url(cert.signature), certificates.canonical(cert.data))  # raises if wrong


def test_rotated_key_signs_new_certificates_and_old_ones_stay_valid_until_withdrawn(app, api, world, monkeypatch,
                                                                                    tmp_path):
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    monkeypatch.setattr(certificates, "_settings", certificates.CertificateSettings(
        tmp_path / "signing.pem", certificates.get_certificate_settings().base_url))
    client = app.test_client()
    old_id = approved_crane(api, "ROT-1")
    (old,) = _certs(world, old_id)
    old_pdf = certificates.pdf_file(world.engine, old)

    result = app.test_cli_runner().invoke(args=["craneflow", "rotate-certificate-key"])
    assert result.exit_code == 0, result.output
    retired = list((tmp_path / "signing.retired").glob("*.pem"))
    assert len(retired) == 1 and retired[0].stem in result.output
    with Session(world.engine) as s:
        assert s.scalar(select(AuditEvent.detail).where(AuditEvent.action == "certificate_key_rotated")) == {
            "retired": retired[0].stem, "current": certificates.fingerprint(certificates.public_key())}

    (new,) = _certs(world, approved_crane(api, "ROT-2"))
    current, previous = (load_pem_public_key(b"-----BEGIN" + part) for part in
                         client.get("/verify/public-key.pem").get_data().split(b"-----BEGIN")[1:])
    current.verify(certificates.unb64url(new.signature), certificates.canonical(new.data))
    previous.verify(certificates.unb64url(old.signature), certificates.canonical(old.data))
    with pytest.raises(InvalidSignature):
        current.verify(certificates.unb64url(old.signature), certificates.canonical(old.data))
    # The certificate signed before the rotation still reads 有效, by its QR link and as the issued file.
    assert certificates.link_state(old, old.signature) == "valid"
    assert certificates.link_state(new, new.signature) == "valid"
    with Session(world.engine) as s:
        assert certificates.check_pdf(s, old_pdf).outcome == "genuine"

    retired[0].unlink()  # the old key withdrawn (e.g. compromised): what it signed no longer verifies
    assert certificates.link_state(old, old.signature) == "invalid"
    assert certificates.link_state(new, new.signature) == "valid"


def test_certificate_numbers_read_in_either_form():
    assert certificates.printed_number("BA-A-2026000123") == "鄂A建机备证〔2026〕第000123号"
    assert certificates.printed_number("DJ-E-2026000045") == "鄂E建机登证〔2026〕第000045号"
    assert certificates.normalize_number("鄂A建机备证〔2026〕第000123号") == "BA-A-2026000123"
    assert certificates.normalize_number(" 鄂E建机登证[2026]第000045号 ") == "DJ-E-2026000045"
    for typed in ("ba-a-2026000123", "BAA2026000123", "BA A 2026000123"):
        assert certificates.normalize_number(typed) == "BA-A-2026000123", typed
    for other in ("鄂A-T202600001", "BA2026000123", "鄂建机备证〔2026〕第000123号", "BA-AB-2026000123"):
        assert certificates.normalize_number(other) is None, other


def _approved_in(api, owner: str, regulator: str, serial: str) -> int:
    case = start_filing(api(owner), serial=serial)
    r = api(regulator).post(f"/api/v1/tasks/{open_task_id(case)}/complete", json={"data": {"decision": "approve"}})
    assert r.status_code == 200, r.get_data(as_text=True)
    return case["subject"]["id"]


def test_serials_run_per_city_of_the_issuing_authority(api, world):
    year = datetime.now(CHINA_TZ).year
    wuhan = approved_crane(api, "CITY-1")
    yichang = _approved_in(api, "owner_yichang", "reg_yichang", "CITY-2")
    second_wuhan = approved_crane(api, "CITY-3")
    by_province = _approved_in(api, "owner_wuhan", "reg_province", "CITY-4")  # numbered in the filing city
    numbers = [_certs(world, c)[0].number for c in (wuhan, yichang, second_wuhan, by_province)]
    assert numbers == [f"BA-A-{year}000001", f"BA-E-{year}000001", f"BA-A-{year}000002", f"BA-A-{year}000003"]
    assert _certs(world, by_province)[0].authority_region_code == "420000"
    assert _certs(world, yichang)[0].data["printed_number"] == f"鄂E建机备证〔{year}〕第000001号"


def test_the_approval_renders_no_pdf_and_the_first_download_records_its_hash(api, world, monkeypatch):
    def no_rendering(cert):
        raise AssertionError("rendered during the approval")

    monkeypatch.setattr(certificate_pdf, "render_certificate", no_rendering)
    crane_id = approved_crane(api, "LAZY-1")
    monkeypatch.undo()
    (cert,) = _certs(world, crane_id)
    assert cert.pdf_sha256 is None and cert.signature
    pdf = _download(api("reg_wuhan"), crane_id).get_data()
    assert _certs(world, crane_id)[0].pdf_sha256 == hashlib.sha256(pdf).hexdigest()
    # Recorded once: a later digest (another layout) does not replace it.
    assert certificates.record_pdf_hash(world.engine, cert.id, "0" * 64) == hashlib.sha256(pdf).hexdigest()
    assert _download(api("owner_wuhan"), crane_id).get_data() == pdf


def test_two_first_downloads_at_once_record_the_same_hash(api, world):
    crane_id = approved_crane(api, "LAZY-2")
    (cert,) = _certs(world, crane_id)
    barrier, files, errors = threading.Barrier(2), [], []

    def download():
        try:
            barrier.wait(10)
            files.append(certificates.pdf_file(world.engine, cert))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=download) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and len(files) == 2 and files[0] == files[1]
    assert _certs(world, crane_id)[0].pdf_sha256 == hashlib.sha256(files[0]).hexdigest()


@pytest.mark.postgres
def test_approvals_in_two_cities_do_not_wait_on_the_same_counter(api, world, postgres_only):
    wuhan, wuhan2 = approved_crane(api, "LOCK-1"), approved_crane(api, "LOCK-2")
    yichang = _approved_in(api, "owner_yichang", "reg_yichang", "LOCK-3")
    holding, release, errors = threading.Event(), threading.Event(), []

    def hold_wuhan_counter():
        try:
            with unit_of_work(world.engine) as s:
                certificates.issue(s, s.get(Crane, wuhan), "filing", at=utcnow())
                holding.set()
                assert release.wait(30)
        except Exception as exc:  # reported below
            errors.append(exc)
            holding.set()

    holder = threading.Thread(target=hold_wuhan_counter)
    holder.start()
    try:
        assert holding.wait(30)
        with unit_of_work(world.engine) as s:
            s.execute(text("SET LOCAL lock_timeout = '3s'"))  # would fail if it waited for Wuhan's
            assert certificates.issue(s, s.get(Crane, yichang), "filing", at=utcnow()).number.startswith("BA-E-")
        with pytest.raises(OperationalError, match="lock"):  # the same city does wait
            with unit_of_work(world.engine) as s:
                s.execute(text("SET LOCAL lock_timeout = '200ms'"))
                certificates.issue(s, s.get(Crane, wuhan2), "filing", at=utcnow())
    finally:
        release.set()
        holder.join(30)
    assert errors == []
