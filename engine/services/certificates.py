"""Certificates of record filing (备案证明) and use registration (使用登记证明).

Issued in the transaction that creates the fact (approval of the filing, issue of the use
registration), superseded by a later certificate of the same kind, revoked when the fact ends
(record cancelled: both; use registration cancelled: that one). Each certificate keeps the
snapshot of the public facts printed on it, signed with the authority's Ed25519 key. Its PDF
(rendered deterministically, engine.services.certificate_pdf) is not part of the issue: the
first download or upload check renders it and records its SHA-256 in a short transaction of its own.

Numbers: a serial per city (the plate letter of the issuing authority's city, as record numbers),
kind and year, so approvals in different cities never wait on the same counter row. The register
and URLs use the ASCII form ``BA-A-2026000123`` (备案) / ``DJ-A-2026000045`` (登记); the certificate
prints ``鄂A建机备证〔2026〕第000123号`` / ``鄂A建机登证〔2026〕第000045号``. Either form is looked up.
"""
import base64
import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, lazyload

from engine.db import Crane, Enterprise, IssuedCertificate, ProcessInstance, Project
from engine.db.uow import unit_of_work
from engine.domain.cranes import CRANE_TYPES
from engine.domain.regions import get_region, housing_authority, plate_letter, prefecture_of
from engine.errors import NotFound

from .record_numbers import next_serial
from .settings import CHINA_TZ

FILING, USE_REGISTRATION = "filing", "use_registration"
KINDS = (FILING, USE_REGISTRATION)
KIND_LABELS = {FILING: ("建筑起重机械备案证明", "Crane record filing certificate"),
               USE_REGISTRATION: ("建筑起重机械使用登记证明", "Crane use registration certificate")}
STATUS_LABELS = {"valid": ("有效", "Valid"), "superseded": ("已作废", "Superseded"), "revoked": ("已注销", "Revoked")}
REASON_LABELS = {"superseded": ("已由新证明替代", "replaced by a later certificate"),
                 "record_cancelled": ("设备备案已注销", "the crane's record was cancelled"),
                 "use_registration_cancelled": ("使用登记已注销", "the use registration was cancelled")}

_PREFIX = {FILING: "BA", USE_REGISTRATION: "DJ"}
_PRINTED_WORD = {FILING: "备", USE_REGISTRATION: "登"}
# Type keys of the counter rows in record_number_sequence (city letter, type key, year): lower
# case, so that no crane type letter (upper case) shares a certificate counter.
_SEQUENCE_KEY = {FILING: "b", USE_REGISTRATION: "d"}
_ASCII_NUMBER = re.compile(r"^(BA|DJ)-?([A-Z])-?(\d{4})(\d{6})$")
_PRINTED_NUMBER = re.compile(r"^鄂([A-Z])建机(备|登)证〔(\d{4})〕第(\d{6})号$")


# --- numbers ------------------------------------------------------------------------------------

def printed_number(number: str) -> str:
    """BA-A-2026000123 → 鄂A建机备证〔2026〕第000123号."""
    prefix, city, year, serial = _ASCII_NUMBER.match(number).groups()
    kind = next(k for k, p in _PREFIX.items() if p == prefix)
    return f"鄂{city}建机{_PRINTED_WORD[kind]}证〔{year}〕第{serial}号"


def normalize_number(text: str) -> str | None:
    """The ASCII number for either form (spaces, hyphens in the ASCII form, case and 〔〕/[]
    variants tolerated), else None."""
    compact = "".join((text or "").split()).upper().replace("[", "〔").replace("]", "〕")
    compact = compact.replace("【", "〔").replace("】", "〕").replace("(", "〔").replace(")", "〕")
    found = _ASCII_NUMBER.match(compact)
    if found:
        prefix, city, year, serial = found.groups()
        return f"{prefix}-{city}-{year}{serial}"
    found = _PRINTED_NUMBER.match(compact)
    if found:
        city, word, year, serial = found.groups()
        kind = next(k for k, w in _PRINTED_WORD.items() if w == word)
        return f"{_PREFIX[kind]}-{city}-{year}{serial}"
    return None


def _next_number(session: Session, kind: str, *, city: str, year: int) -> str:
    serial = next_serial(session, city=city, type_letter=_SEQUENCE_KEY[kind], year=year)
    return f"{_PREFIX[kind]}-{city}-{year}{serial:06d}"


def _city_letter(authority_code: str, fact_region_code: str) -> str:
    """The plate letter of the authority's city; a provincial authority numbers in the city of the
    fact (the filing region, the site), as record numbers do."""
    letter = plate_letter(authority_code) or plate_letter(fact_region_code)
    if letter is None:
        raise ValueError(f"no city for region {fact_region_code}")
    return letter


# --- signing key --------------------------------------------------------------------------------

@dataclass(frozen=True)
class CertificateSettings:
    key_file: Path
    base_url: str


_settings: CertificateSettings | None = None


def configure(*, key_file: str | Path, base_url: str) -> None:
    global _settings
    _settings = CertificateSettings(Path(key_file), base_url.rstrip("/"))


def get_certificate_settings() -> CertificateSettings:
    """As configured by the application; a worker that did not configure reads the environment."""
    if _settings is not None:
        return _settings
    var = Path(os.environ.get("CRANEFLOW_VAR_DIR", Path(__file__).resolve().parents[2] / "var"))
    return CertificateSettings(Path(os.environ.get("CERT_SIGNING_KEY_FILE") or var / "cert_signing_key.pem"),
                               os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/"))


def _write_new_key(path: Path, *, replace: bool) -> None:
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    target = path.with_name(path.name + ".new") if replace else path
    try:  # O_EXCL: of two processes generating at once, the first one's key is kept
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if not replace:
            return
        raise
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    if replace:
        os.replace(target, path)  # atomic: a process reading the file sees the old key or the new one


@lru_cache(maxsize=4)
def _read_key(path: Path, _mtime_ns: int) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return key


def _load_key(path: Path) -> Ed25519PrivateKey:
    """The key in `path` (generated when absent), read again when the file changes (a rotation by
    another process takes effect without a restart)."""
    if not path.exists():
        _write_new_key(path, replace=False)
    return _read_key(path, path.stat().st_mtime_ns)


def signing_key() -> Ed25519PrivateKey:
    return _load_key(get_certificate_settings().key_file)


def public_key() -> Ed25519PublicKey:
    return signing_key().public_key()


def _public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key, first 16 hex digits: names a key in files and messages."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def retired_keys_dir() -> Path:
    """Public keys of earlier signing keys (one PEM each): certificates they signed stay valid until
    their file is removed (a key withdrawn after a compromise)."""
    key_file = get_certificate_settings().key_file
    return key_file.with_name(key_file.stem + ".retired")


@lru_cache(maxsize=4)
def _read_retired(folder: Path, _mtime_ns: int) -> tuple[Ed25519PublicKey, ...]:
    keys = []
    for pem in sorted(folder.glob("*.pem")):
        key = serialization.load_pem_public_key(pem.read_bytes())
        if isinstance(key, Ed25519PublicKey):
            keys.append(key)
    return tuple(keys)


def verifying_keys() -> tuple[Ed25519PublicKey, ...]:
    """The current key first, then the retired ones still trusted."""
    folder = retired_keys_dir()
    retired = _read_retired(folder, folder.stat().st_mtime_ns) if folder.is_dir() else ()
    return (public_key(), *retired)


def public_key_pem() -> bytes:
    """Every key that verifies certificates, the current one first."""
    return b"".join(_public_pem(key) for key in verifying_keys())


def rotate_signing_key() -> tuple[str, str]:
    """Retire the signing key (its public key keeps verifying what it signed) and sign with a new one
    from now on; returns the old and the new key's fingerprints."""
    old = public_key()
    folder = retired_keys_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{fingerprint(old)}.pem").write_bytes(_public_pem(old))
    _write_new_key(get_certificate_settings().key_file, replace=True)
    return fingerprint(old), fingerprint(public_key())


def canonical(data: dict) -> bytes:
    """The signed bytes: sorted keys, no spaces, UTF-8."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes | None:
    try:
        text = text.strip()
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        return None


def sign(data: dict) -> str:
    return b64url(signing_key().sign(canonical(data)))


def signature_valid(signed: bytes, signature: str | None) -> bool:
    raw = unb64url(signature or "")
    if raw is None or len(raw) != 64:
        return False
    for key in verifying_keys():
        try:
            key.verify(raw, signed)
            return True
        except InvalidSignature:
            continue
    return False


def verification_url(cert: IssuedCertificate) -> str:
    return f"{get_certificate_settings().base_url}/verify/c/{cert.number}?s={cert.signature}"


def verification_code(signature: str) -> str:
    """12 characters from the signature, printed in groups of four, for checking a paper copy."""
    code = base64.b32encode(hashlib.sha256(signature.encode()).digest()).decode()[:12]
    return "-".join(code[i:i + 4] for i in range(0, 12, 4))


# --- issue, supersede, revoke ---------------------------------------------------------------------

def _authority_region(actor, fallback_code: str) -> str:
    if actor is not None and getattr(actor, "kind", None) == "regulator" and actor.region_code:
        return actor.region_code
    city = prefecture_of(fallback_code)
    return city.code if city else fallback_code


def _china_day(moment: datetime) -> str:
    return moment.astimezone(CHINA_TZ).date().isoformat()


def has_fact(crane: Crane, kind: str) -> bool:
    """Whether the crane holds what the certificate certifies (a live record; a use registration)."""
    if kind == FILING:
        return crane.record_number is not None and crane.filed_at is not None and crane.status != "cancelled"
    return crane.use_registration_no is not None and crane.status != "cancelled"


def _snapshot(session: Session, crane: Crane, kind: str, *, number: str, at: datetime, authority_code: str) -> dict:
    owner = session.get(Enterprise, crane.owner_enterprise_id)
    data = {
        "v": 1, "number": number, "printed_number": printed_number(number), "kind": kind,
        "crane_type": crane.crane_type, "crane_type_name": CRANE_TYPES[crane.crane_type]["zh"],
        "model": crane.model, "manufacturer": crane.manufacturer, "factory_serial": crane.factory_serial,
        "manufacture_date": crane.manufacture_date.isoformat(), "record_number": crane.record_number,
        "filed_on": _china_day(crane.filed_at) if crane.filed_at else None,
        "owner_name": owner.name, "owner_uscc": owner.uscc,
        "authority": housing_authority(authority_code), "authority_region_code": authority_code,
        "issued_on": _china_day(at),
    }
    if kind == USE_REGISTRATION:
        project = session.get(Project, crane.project_id)
        user = session.get(Enterprise, project.user_enterprise_id)
        installer_id = session.scalar(select(ProcessInstance.applicant_enterprise_id).where(
            ProcessInstance.process_key == "installation_notice", ProcessInstance.subject_type == "crane",
            ProcessInstance.subject_id == crane.id).order_by(ProcessInstance.id.desc()).limit(1))
        installer = session.get(Enterprise, installer_id) if installer_id else None
        region = get_region(project.region_code)
        data.update({
            "registration_number": crane.use_registration_no,
            "registered_on": _china_day(crane.registered_at or at),
            "project_name": project.name, "project_code": project.code, "site_address": project.address,
            "site_region_code": project.region_code, "site_region": region.name if region else "",
            "user_name": user.name, "user_uscc": user.uscc,
            "installer_name": installer.name if installer else None,
            "installer_uscc": installer.uscc if installer else None,
        })
    return data


def issue(session: Session, crane: Crane, kind: str, *, at: datetime, actor=None) -> IssuedCertificate:
    """Issue the certificate of `kind` for the crane's current fact; an earlier valid one of the
    same kind is superseded. Runs in the transaction that creates the fact: number, snapshot and
    signature only (the PDF is rendered on first use, see pdf_file)."""
    fallback = crane.filing_region_code if kind == FILING else session.get(Project, crane.project_id).region_code
    authority_code = _authority_region(actor, fallback)
    session.execute(update(IssuedCertificate).where(
        IssuedCertificate.crane_id == crane.id, IssuedCertificate.kind == kind, IssuedCertificate.status == "valid")
        .values(status="superseded", revoked_at=at, revoked_reason="superseded"))
    number = _next_number(session, kind, city=_city_letter(authority_code, fallback),
                          year=at.astimezone(CHINA_TZ).year)
    data = _snapshot(session, crane, kind, number=number, at=at, authority_code=authority_code)
    cert = IssuedCertificate(number=number, kind=kind, crane_id=crane.id, issued_at=at,
                             authority_region_code=authority_code, data=data, signature=sign(data), status="valid")
    session.add(cert)
    return cert


def revoke(session: Session, crane_id: int, kinds: tuple[str, ...], *, reason: str, at: datetime) -> int:
    """Revoke the crane's valid certificates of these kinds; returns how many."""
    return session.execute(update(IssuedCertificate).where(
        IssuedCertificate.crane_id == crane_id, IssuedCertificate.kind.in_(kinds),
        IssuedCertificate.status == "valid").values(status="revoked", revoked_at=at, revoked_reason=reason)).rowcount


def current(session: Session, crane_id: int, kind: str) -> IssuedCertificate | None:
    return session.scalar(select(IssuedCertificate).where(
        IssuedCertificate.crane_id == crane_id, IssuedCertificate.kind == kind,
        IssuedCertificate.status == "valid").order_by(IssuedCertificate.id.desc()).limit(1))


def ensure_current(session: Session, crane_id: int, kind: str, *, at: datetime) -> IssuedCertificate:
    """The crane's valid certificate of `kind`, issued now when the fact predates certificates.
    The crane row is locked first, so two first downloads issue one certificate."""
    crane = session.scalar(select(Crane).options(lazyload("*")).where(Crane.id == crane_id).with_for_update())
    if crane is None or kind not in KINDS or not has_fact(crane, kind):
        raise NotFound("no such certificate")
    return current(session, crane.id, kind) or issue(session, crane, kind, at=at)


def issue_missing(session: Session, *, at: datetime) -> int:
    """Issue the certificates of every fact that has none yet (cranes filed before certificates)."""
    issued = 0
    for kind in KINDS:
        has = select(IssuedCertificate.id).where(IssuedCertificate.crane_id == Crane.id,
                                                 IssuedCertificate.kind == kind,
                                                 IssuedCertificate.status == "valid").exists()
        column = Crane.filed_at if kind == FILING else Crane.use_registration_no
        for crane in session.scalars(select(Crane).where(column.is_not(None), Crane.status != "cancelled", ~has)
                                     .order_by(Crane.id)):
            if has_fact(crane, kind):
                issue(session, crane, kind, at=at)
                issued += 1
    return issued


def find(session: Session, text: str) -> IssuedCertificate | None:
    number = normalize_number(text)
    return session.scalar(select(IssuedCertificate).where(IssuedCertificate.number == number)) if number else None


def certificates_of(session: Session, crane_id: int) -> list[IssuedCertificate]:
    return list(session.scalars(select(IssuedCertificate).where(IssuedCertificate.crane_id == crane_id)
                                .order_by(IssuedCertificate.id.desc())))


def pdf_of(cert: IssuedCertificate) -> bytes:
    from .certificate_pdf import render_certificate

    return render_certificate(cert)


def record_pdf_hash(bind: Engine, cert_id: int, digest: str) -> str:
    """Record the SHA-256 of the certificate's PDF unless one is recorded already (set if null, in
    a short transaction of its own); returns the recorded one. Of two first renderings at once,
    the second finds the first's (identical: the rendering is deterministic) and leaves it."""
    with unit_of_work(bind) as s:
        s.execute(update(IssuedCertificate).where(IssuedCertificate.id == cert_id,
                                                  IssuedCertificate.pdf_sha256.is_(None)).values(pdf_sha256=digest))
        return s.scalar(select(IssuedCertificate.pdf_sha256).where(IssuedCertificate.id == cert_id))


def pdf_file(bind: Engine, cert: IssuedCertificate) -> bytes:
    """The certificate's PDF for download; the first one records its SHA-256."""
    pdf = pdf_of(cert)
    if cert.pdf_sha256 is None:
        record_pdf_hash(bind, cert.id, hashlib.sha256(pdf).hexdigest())
    return pdf


def require_kind(kind: str) -> str:
    if kind not in KINDS:
        raise NotFound("no such certificate")
    return kind


# --- public verification -------------------------------------------------------------------------

def certificate_summary(cert: IssuedCertificate) -> dict:
    """What the portal says about a certificate: no names of people, no documents."""
    return {"number": cert.number, "printed_number": printed_number(cert.number), "kind": cert.kind,
            "kind_label": KIND_LABELS[cert.kind], "status": cert.status, "status_label": STATUS_LABELS[cert.status],
            "issued_on": cert.data.get("issued_on"), "authority": cert.data.get("authority"),
            "revoked_at": cert.revoked_at, "revoked_reason": REASON_LABELS.get(cert.revoked_reason)}


def public_facts(session: Session, crane: Crane) -> dict:
    """A crane's public facts: equipment, owner enterprise, lifecycle state, the use registration in
    force with its site (project name and county) and the certificates. Never people or files."""
    owner = session.get(Enterprise, crane.owner_enterprise_id)
    facts = {"record_number": crane.record_number, "crane_type": crane.crane_type, "model": crane.model,
             "manufacturer": crane.manufacturer, "owner_name": owner.name, "status": crane.status,
             "use_registration": None,
             "certificates": [certificate_summary(c) for c in certificates_of(session, crane.id)]}
    if crane.use_registration_no and crane.project_id:
        project = session.get(Project, crane.project_id)
        facts["use_registration"] = {"number": crane.use_registration_no, "project_name": project.name,
                                     "region_code": project.region_code}
    return facts


def look_up(session: Session, text: str) -> tuple[Crane | None, IssuedCertificate | None]:
    """The crane of a record number (备案编号) or of a certificate number, and that certificate."""
    text = (text or "").strip()[:64]
    cert = find(session, text)
    if cert is not None:
        return session.get(Crane, cert.crane_id), cert
    crane = session.scalar(select(Crane).where(Crane.record_number == "".join(text.split()).upper()))
    return crane, None


def link_state(cert: IssuedCertificate | None, signature: str | None) -> str:
    """For the QR link: valid | superseded | revoked, or invalid (unknown number, wrong signature)."""
    if cert is None or not signature_valid(canonical(cert.data), signature):
        return "invalid"
    return cert.status


@dataclass(frozen=True)
class FileCheck:
    """The verdict on an uploaded PDF: genuine (the issued file), altered (signed data intact, file
    changed), forged (signature does not verify), not_certificate (no embedded data)."""
    outcome: str
    certificate: IssuedCertificate | None = None


def check_pdf(session: Session, content: bytes) -> FileCheck:
    """Raises ValueError when the file cannot be read as a PDF."""
    import io

    from pypdf import PdfReader

    try:
        info = PdfReader(io.BytesIO(content)).metadata or {}
    except Exception as exc:  # noqa: BLE001  (an untrusted file fails to parse in many ways)
        raise ValueError("unreadable PDF") from exc
    encoded, signature = info.get("/CraneFlowData"), info.get("/CraneFlowSignature")
    if not encoded:
        return FileCheck("not_certificate")
    signed = unb64url(str(encoded))
    if signed is None or not signature_valid(signed, str(signature or "")):
        return FileCheck("forged")
    try:
        number = json.loads(signed).get("number", "")
    except (ValueError, AttributeError):
        return FileCheck("forged")
    cert = session.scalar(select(IssuedCertificate).where(IssuedCertificate.number == number))
    if cert is None or canonical(cert.data) != signed:
        return FileCheck("forged", cert)
    digest = hashlib.sha256(content).hexdigest()
    recorded = cert.pdf_sha256
    if digest == recorded:
        return FileCheck("genuine", cert)
    # The same certificate as rendered today (should the layout have changed since the first
    # download), which is also the first rendering when none was recorded yet.
    rendered = hashlib.sha256(pdf_of(cert)).hexdigest()
    if recorded is None:
        recorded = record_pdf_hash(session.get_bind(), cert.id, rendered)
    if digest not in (recorded, rendered):
        return FileCheck("altered", cert)
    return FileCheck("genuine", cert)


def crane_of(session: Session, cert: IssuedCertificate) -> Crane:
    return session.get(Crane, cert.crane_id)
