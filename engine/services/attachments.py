"""Uploads: size limit, type sniffed from the bytes (not the name), sha256, stored outside the web root."""
import hashlib
import os
import uuid
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import Attachment, CaseAttachment, Crane, CraneDocument, ProcessInstance, User
from engine.errors import InvalidInput, NotFound
from forms import t

from .access import can_see_case, can_see_crane
from .settings import get_settings

SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
)
CHUNK = 64 * 1024


def sniff(head: bytes) -> tuple[str, str] | None:
    for magic, mime, ext in SIGNATURES:
        if head.startswith(magic):
            return mime, ext
    return None


def _size_label(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB" if size >= 1024 * 1024 else f"{size / 1024:g} KB"


def _safe_name(name: str) -> str:
    name = os.path.basename((name or "").replace("\\", "/")).strip()
    name = "".join(ch for ch in name if ch.isprintable())[:200]
    return name if name.strip(". ") else "upload"  # nothing but dots ("..") is no name


def store_upload(session: Session, *, actor: User, filename: str, stream: BinaryIO) -> Attachment:
    settings = get_settings()
    limit = settings.max_upload_bytes
    head = stream.read(16)
    kind = sniff(head)
    if not head:
        raise InvalidInput({"file": [t("file_empty")]})
    if kind is None:
        raise InvalidInput({"file": [t("file_type")]})
    mime, ext = kind
    key = uuid.uuid4().hex
    target_dir = settings.upload_dir / key[:2]
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / f"{key}{ext}"
    digest, size = hashlib.sha256(head), len(head)
    try:
        with open(target, "wb") as out:
            out.write(head)
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise InvalidInput({"file": [t("file_too_large", limit=_size_label(limit))]})
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    attachment = Attachment(
        original_name=_safe_name(filename), content_type=mime, size=size, sha256=digest.hexdigest(),
        storage_path=str(target.relative_to(settings.upload_dir)), uploaded_by_id=actor.id,
        enterprise_id=actor.enterprise_id,
    )
    session.add(attachment)
    session.flush()
    return attachment


def can_read_attachment(session: Session, user: User, attachment: Attachment) -> bool:
    """Owners read their own files; others read files of the cranes and cases they may see (the
    parties of an installation notice read the installer's package and the crane's papers)."""
    if user.kind == "admin":
        return True
    if user.kind == "enterprise" and attachment.enterprise_id is not None \
            and attachment.enterprise_id == user.enterprise_id:
        return True
    cranes = session.scalars(select(Crane).join(CraneDocument)
                             .where(CraneDocument.attachment_id == attachment.id))
    if any(can_see_crane(user, c, session) for c in cranes):
        return True
    cases = session.scalars(select(ProcessInstance).join(
        CaseAttachment, CaseAttachment.instance_id == ProcessInstance.id)
        .where(CaseAttachment.attachment_id == attachment.id))
    return any(can_see_case(user, c, session) for c in cases)


def link_to_case(session: Session, instance_id: int, documents: dict) -> None:
    """Record the files submitted in a case (idempotent)."""
    known = set(session.scalars(select(CaseAttachment.attachment_id).where(CaseAttachment.instance_id == instance_id)))
    for attachment_id in {i for ids in documents.values() for i in ids} - known:
        session.add(CaseAttachment(instance_id=instance_id, attachment_id=attachment_id))


def stored_path(attachment: Attachment) -> Path:
    """Where the bytes of an attachment are kept."""
    return get_settings().upload_dir / attachment.storage_path


def read_chunks(attachment: Attachment, size: int = CHUNK):
    """The stored bytes of an attachment, chunk by chunk (FileNotFoundError if they are gone)."""
    with open(stored_path(attachment), "rb") as stream:
        while chunk := stream.read(size):
            yield chunk


def open_attachment(session: Session, *, user: User, attachment_id: int) -> tuple[Attachment, Path]:
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or not can_read_attachment(session, user, attachment):
        raise NotFound("attachment not found")
    return attachment, stored_path(attachment)


def foreign_uploads(session: Session, user: User, ids) -> set[int]:
    """The ids among `ids` that are not the user's own uploads (its enterprise's, for enterprises)."""
    ids = set(ids)
    if not ids:
        return set()
    owner = (Attachment.enterprise_id == user.enterprise_id if user.enterprise_id is not None
             else Attachment.uploaded_by_id == user.id)
    return ids - set(session.scalars(select(Attachment.id).where(Attachment.id.in_(ids), owner)))


def check_documents_owned(session: Session, enterprise_id: int | None, documents: dict) -> None:
    """Every attachment id in {doc_type: [ids]} must exist and belong to the enterprise."""
    ids = {i for doc_ids in documents.values() for i in doc_ids}
    found = set(session.scalars(select(Attachment.id).where(
        Attachment.id.in_(ids), Attachment.enterprise_id == enterprise_id))) if ids else set()
    errors = {doc: [t("attachment_unknown")] for doc, doc_ids in documents.items() if set(doc_ids) - found}
    if errors:
        raise InvalidInput({"documents": errors})
