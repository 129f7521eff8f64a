"""The safety technical archive (安全技术档案) of a crane (Order 166 Art 9, domain.md §5): one
timeline of its filing documents, every case about it with the steps and events each recorded,
the files submitted in them, the spot checks and hazards that name it, and its operation records
(self-checks, maintenance, repairs, faults); and a ZIP of it all.

The owner keeps the archive, so its own crane's archive holds every case about the crane; others
find the cases they may see elsewhere (those they started or are named in, or of their region).
"""
import csv
import hashlib
import io
import itertools
import json
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import BinaryIO

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from engine.bpmn.assignment import form_key_of
from engine.db import (Attachment, AuditEvent, CaseAttachment, CaseRecord, Crane, Enterprise, Hazard,
                       Inspection, ProcessInstance, User)
from engine.domain.lifecycle import STATE_LABELS
from forms import FORMS, current_locale, form_schema, pick
from forms.inspection import CHECK_TYPES, GRADES, INSTRUMENTS
from forms.messages import DOCUMENT_NAMES
from forms.operations import KINDS as OPERATION_KINDS
from forms.operations import RESULTS as OPERATION_RESULTS
from workflows.catalog import load_catalog

from .access import can_see_case
from .attachments import read_chunks
from .audit import ACTION_LABELS
from .cases import step_titles
from .definitions import parsed_definition
from .operations import list_operations, record_attachments
from .settings import CHINA_TZ

FORMAT = "craneflow-safety-archive/1"
# Audit actions that repeat what a step record already says.
STEP_ACTIONS = ("complete", "decision")
# Step fields worth a line in the timeline, in this order.
SUMMARY_FIELDS = ("decision", "conclusion", "result", "reason", "findings", "measures", "report_number",
                  "inspected_on", "accepted_on", "project_code", "project_name", "planned_start", "model",
                  "factory_serial", "equipment_manager")
# Same moment: the step or event first, then the files it submitted.
KIND_ORDER = {"event": 0, "step": 1, "inspection": 2, "hazard": 3, "operation": 3, "document": 4, "attachment": 4}
UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


def _zh() -> bool:
    return current_locale.get().startswith("zh")


def _iso(value):
    return value.isoformat() if value is not None else None


@lru_cache(maxsize=4)
def _document_titles(locale: str) -> dict[str, tuple[str, str]]:
    """doc_type → its title, from the documents part of every form (filing names first)."""
    titles: dict[str, tuple[str, str]] = {}
    for key in FORMS:
        documents = form_schema(key).fields.get("documents")
        nested = getattr(documents, "schema", None)
        for name, fld in (getattr(nested, "fields", None) or {}).items():
            titles.setdefault(name, fld.metadata.get("title"))
    return {**titles, **DOCUMENT_NAMES}


def document_title(doc_type: str | None) -> str:
    return pick(_document_titles(current_locale.get()).get(doc_type)) or (doc_type or "")


def _safe(name: str) -> str:
    return UNSAFE.sub("_", name).strip(" .") or "file"


def keeps_archive(user: User, crane: Crane) -> bool:
    return user.kind == "admin" or (user.kind == "enterprise" and user.enterprise_id is not None
                                    and user.enterprise_id == crane.owner_enterprise_id)


@dataclass
class ArchiveFile:
    attachment: Attachment
    path: str


@dataclass
class Archive:
    crane: Crane
    facts: dict
    timeline: list[dict]
    files: list[ArchiveFile] = field(default_factory=list)


def archive_facts(crane: Crane) -> dict:
    return {
        "id": crane.id, "record_number": crane.record_number, "status": crane.status,
        "status_label": pick(STATE_LABELS.get(crane.status)), "crane_type": crane.crane_type, "model": crane.model,
        "manufacturer": crane.manufacturer, "factory_serial": crane.factory_serial,
        "manufacture_date": _iso(crane.manufacture_date), "manufacturing_licence_no": crane.manufacturing_licence_no,
        "product_certificate_no": crane.product_certificate_no,
        "supervision_certificate_no": crane.supervision_certificate_no,
        "rated_moment_knm": float(crane.rated_moment_knm) if crane.rated_moment_knm is not None else None,
        "rated_load_kg": crane.rated_load_kg,
        "owner": {"name": crane.owner.name, "uscc": crane.owner.uscc},
        "filing_region_code": crane.filing_region_code, "filed_at": _iso(crane.filed_at),
        "use_registration_no": crane.use_registration_no,
    }


def _step_forms(instance: ProcessInstance) -> dict[str, str]:
    """Task id → form key in the model the case runs on."""
    spec = parsed_definition(instance.definition).spec
    return {name: form_key_of(task) for name, task in spec.task_specs.items() if form_key_of(task)}


def _summary(form_key: str | None, data: dict) -> str:
    fields = form_schema(form_key).fields if form_key in FORMS else {}
    parts = []
    for name in SUMMARY_FIELDS:
        value = data.get(name)
        if value in (None, "", []):
            continue
        meta = fields[name].metadata if name in fields else {}
        label = (pick((meta.get("labels") or {}).get(value)) if isinstance(value, str) else "") or str(value)
        parts.append(f"{pick(meta.get('title')) or name}：{label}" if _zh() else
                     f"{pick(meta.get('title')) or name}: {label}")
    return "；".join(parts) if _zh() else "; ".join(parts)


def _document_ids(data: dict) -> list[tuple[str, int]]:
    documents = data.get("documents") if isinstance(data, dict) else None
    if not isinstance(documents, dict):
        return []
    return [(doc_type, i) for doc_type, ids in documents.items() if isinstance(ids, list)
            for i in ids if isinstance(i, int) and not isinstance(i, bool)]


def _event_title(event: AuditEvent) -> str:
    title = pick(ACTION_LABELS.get(event.action)) or event.action
    if event.action == "crane_state":
        return f"{title}：{pick(STATE_LABELS.get(event.from_state))} → {pick(STATE_LABELS.get(event.to_state))}"
    return title


def archive_cases(session: Session, crane: Crane, viewer: User | None = None) -> list[ProcessInstance]:
    """The cases about the crane (without their workflow state) that the archive holds for the viewer."""
    rows = list(session.scalars(select(ProcessInstance)
                                .where(ProcessInstance.subject_type == "crane", ProcessInstance.subject_id == crane.id)
                                .order_by(ProcessInstance.id)))
    if viewer is None or keeps_archive(viewer, crane):
        return rows
    return [r for r in rows if can_see_case(viewer, r, session)]


class _Builder:
    def __init__(self, session: Session, crane: Crane):
        self.session, self.crane = session, crane
        self.entries: list[tuple] = []
        self.files: dict[int, ArchiveFile] = {}
        self.catalog = load_catalog()

    def add(self, at: datetime, kind: str, entry: dict) -> None:
        entry = {"at": _iso(at), "kind": kind, **entry}
        self.entries.append((at, KIND_ORDER[kind], len(self.entries), entry))

    def file(self, attachment: Attachment, folder: str) -> dict:
        known = self.files.get(attachment.id)
        if known is None:
            known = ArchiveFile(attachment, f"{folder}/{attachment.id}-{_safe(attachment.original_name)}")
            self.files[attachment.id] = known
        return {"attachment_id": attachment.id, "name": attachment.original_name, "content_type": attachment.content_type,
                "size": attachment.size, "sha256": attachment.sha256, "path": known.path}

    def case_ref(self, case: ProcessInstance) -> dict:
        entry = self.catalog.get(case.process_key)
        return {"case_id": case.id, "business_key": case.business_key, "process_key": case.process_key,
                "procedure": entry.name(current_locale.get()) if entry else case.process_key}

    def sorted(self) -> list[dict]:
        return [entry for *_, entry in sorted(self.entries, key=lambda e: e[:3])]


def _case_folder(case: ProcessInstance) -> str:
    return f"cases/{case.business_key}-{case.process_key}"


def _names(session: Session, model, ids) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    column = model.display_name if model is User else model.name
    return dict(session.execute(select(model.id, column).where(model.id.in_(ids))).all())


def crane_archive(session: Session, crane: Crane, viewer: User | None = None) -> Archive:
    """The crane's timeline, sorted by time, and the files it refers to (each once)."""
    b = _Builder(session, crane)
    cases = archive_cases(session, crane, viewer)
    case_by_id = {c.id: c for c in cases}
    ids = list(case_by_id)
    records = list(session.scalars(select(CaseRecord).where(CaseRecord.instance_id.in_(ids))
                                   .order_by(CaseRecord.id))) if ids else []
    events = list(session.scalars(select(AuditEvent).options(selectinload(AuditEvent.actor))
                                  .where(AuditEvent.instance_id.in_(ids)).order_by(AuditEvent.id))) if ids else []
    people = _names(session, User, [r.recorded_by_id for r in records])
    enterprises = _names(session, Enterprise, [r.enterprise_id for r in records])
    # Where each file was first submitted: (record, doc_type) by attachment id.
    submitted: dict[int, tuple[CaseRecord, str]] = {}
    for record in records:
        for doc_type, attachment_id in _document_ids(record.data):
            submitted.setdefault(attachment_id, (record, doc_type))
    linked: dict[int, int] = {}  # attachment id → the first case it was submitted in
    for attachment_id, instance_id in (session.execute(
            select(CaseAttachment.attachment_id, CaseAttachment.instance_id).where(CaseAttachment.instance_id.in_(ids))
            .order_by(CaseAttachment.instance_id)) if ids else ()):
        linked.setdefault(attachment_id, instance_id)
    wanted = set(submitted) | set(linked) | {d.attachment_id for d in crane.documents}
    attachments = {a.id: a for a in session.scalars(select(Attachment).where(Attachment.id.in_(wanted)))} if wanted else {}

    def when_submitted(attachment):
        found = submitted.get(attachment.id)
        return (found[0].recorded_at, found[0].step) if found else (attachment.created_at, None)

    documents = {d.attachment_id for d in crane.documents if d.attachment_id in attachments}
    for document in crane.documents:
        if document.attachment_id not in documents:
            continue
        attachment = attachments[document.attachment_id]
        at, step = when_submitted(attachment)
        found = submitted.get(attachment.id)
        case = case_by_id.get(found[0].instance_id) if found else None
        b.add(at, "document", {**(b.case_ref(case) if case else {}), "title": document_title(document.doc_type),
                               "doc_type": document.doc_type, "step": step,
                               "file": b.file(attachment, f"documents/{_safe(document.doc_type)}")})
    titles, forms = {}, {}
    for case in cases:
        titles[case.id], forms[case.id] = step_titles(session, case), _step_forms(case)
    for record in records:
        case = case_by_id[record.instance_id]
        b.add(record.recorded_at, "step", {
            **b.case_ref(case), "step": record.step, "title": titles[case.id].get(record.step, record.step),
            "party": record.party, "enterprise": enterprises.get(record.enterprise_id),
            "actor": people.get(record.recorded_by_id),
            "summary": _summary(forms[case.id].get(record.step), record.data), "data": record.data,
            "files": [b.file(attachments[i], _case_folder(case)) for _, i in _document_ids(record.data)
                      if i in attachments]})
    with_records = {r.instance_id for r in records}
    for event in events:
        if event.action in STEP_ACTIONS and event.instance_id in with_records:
            continue
        case = case_by_id[event.instance_id]
        detail = event.detail or {}
        # A case written with its first submission records the start just after that step.
        at = min(event.at, case.started_at) if event.action == "start" else event.at
        b.add(at, "event", {
            **b.case_ref(case), "action": event.action, "title": _event_title(event),
            "step": event.task_name, "actor": event.actor.display_name if event.actor else None,
            "from_state": event.from_state, "to_state": event.to_state,
            "summary": detail.get("reason") or "", "data": detail})
    for attachment_id in sorted(wanted - documents):
        attachment = attachments.get(attachment_id)
        found = submitted.get(attachment_id)
        case = case_by_id.get(found[0].instance_id if found else linked.get(attachment_id))
        if attachment is None or case is None:
            continue
        at, step = when_submitted(attachment)
        doc_type = found[1] if found else None
        b.add(at, "attachment", {
            **b.case_ref(case), "title": document_title(doc_type) or attachment.original_name, "doc_type": doc_type,
            "step": step, "file": b.file(attachment, _case_folder(case))})
    _inspections(b, viewer)
    _operations(b)
    facts = archive_facts(crane)
    if crane.predecessor_id:  # filed anew after a transfer of ownership: the record it continues
        before = session.get(Crane, crane.predecessor_id)
        facts["predecessor"] = {"id": before.id, "record_number": before.record_number}
    return Archive(crane=crane, facts=facts, timeline=b.sorted(), files=list(b.files.values()))


def _inspections(b: _Builder, viewer: User | None) -> None:
    """Spot checks that ordered the crane out of use or found hazards on it, with those hazards."""
    session, crane = b.session, b.crane
    rows = list(session.scalars(select(Inspection).where(or_(
        Inspection.stop_use_crane_id == crane.id,
        Inspection.id.in_(select(Hazard.inspection_id).where(Hazard.crane_id == crane.id))))
        .order_by(Inspection.id)))
    if not rows:
        return
    cases = {c.id: c for c in session.scalars(select(ProcessInstance)
                                              .where(ProcessInstance.id.in_([i.instance_id for i in rows])))}
    photo_ids = {i for inspection in rows for h in inspection.hazards if h.crane_id == crane.id
                 for i in (h.photos or []) + (h.evidence or []) if isinstance(i, int)}
    photos = {a.id: a for a in session.scalars(select(Attachment).where(Attachment.id.in_(photo_ids)))} \
        if photo_ids else {}
    for inspection in rows:
        case = cases[inspection.instance_id]
        if viewer is not None and not keeps_archive(viewer, crane) and not can_see_case(viewer, case, session):
            continue
        b.add(inspection.created_at, "inspection", {
            **b.case_ref(case), "title": pick(INSTRUMENTS.get(inspection.instrument)),
            "summary": " · ".join(filter(None, (pick(CHECK_TYPES.get(inspection.check_type)), inspection.notice_number))),
            "data": {"check_date": _iso(inspection.check_date), "check_type": inspection.check_type,
                     "instrument": inspection.instrument, "notice_number": inspection.notice_number,
                     "deadline_on": _iso(inspection.deadline_on), "status": inspection.status,
                     "stop_use": inspection.stop_use_crane_id == crane.id, "closed_at": _iso(inspection.closed_at)}})
        hazards = [h for h in inspection.hazards if h.crane_id == crane.id]
        for hazard in hazards:
            b.add(inspection.created_at, "hazard", {
                **b.case_ref(case), "title": pick(GRADES.get(hazard.grade)), "summary": hazard.description,
                "data": {"seq": hazard.seq, "description": hazard.description, "location": hazard.location,
                         "grade": hazard.grade, "major_item": hazard.major_item, "status": hazard.status,
                         "deadline_on": _iso(hazard.deadline_on), "measure": hazard.measure,
                         "completed_on": _iso(hazard.completed_on), "closed_at": _iso(hazard.closed_at)},
                "files": [b.file(photos[i], _case_folder(case)) for i in (hazard.photos or []) + (hazard.evidence or [])
                          if i in photos]})


def _operations(b: _Builder) -> None:
    """Self-checks, maintenance, repairs and faults, as their keepers recorded them."""
    records = list_operations(b.session, b.crane)
    files = record_attachments(b.session, records)
    for record in reversed(records):  # listed newest first
        title = pick(OPERATION_KINDS.get(record.kind))
        b.add(record.created_at, "operation", {
            "title": title, "operation_id": record.id, "enterprise": record.performer.name,
            "summary": "；".join(filter(None, (record.performed_on.isoformat(), record.person_in_charge,
                                               pick(OPERATION_RESULTS.get(record.result)), record.report_number,
                                               record.summary))),
            "data": {"kind": record.kind, "performed_on": _iso(record.performed_on), "result": record.result,
                     "report_number": record.report_number, "valid_until": _iso(record.valid_until),
                     "items": record.items, "resolves": record.resolves_id, "project_id": record.project_id},
            "files": [b.file(files[i], f"operations/{record.performed_on:%Y-%m}") for i in record.attachments or []
                      if i in files]})


CSV_COLUMNS = (("at", "时间", "Time"), ("kind", "类型", "Kind"), ("business_key", "业务编号", "Case no."),
               ("procedure", "业务", "Procedure"), ("title", "事项", "Entry"), ("enterprise", "单位", "Enterprise"),
               ("actor", "经办人", "By"), ("summary", "内容", "Details"), ("path", "文件", "File"))


def _local(iso: str | None) -> str:
    return datetime.fromisoformat(iso).astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S") if iso else ""


def timeline_csv(timeline: list[dict]) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese text right."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([zh if _zh() else en for _, zh, en in CSV_COLUMNS])
    for entry in timeline:
        paths = [f["path"] for f in ([entry["file"]] if entry.get("file") else entry.get("files") or [])]
        row = {**entry, "at": _local(entry["at"]), "path": "; ".join(paths)}
        writer.writerow([row.get(key) or "" for key, _, _ in CSV_COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def write_archive_zip(session: Session, crane: Crane, target: BinaryIO, viewer: User | None = None,
                      generated_at: datetime | None = None) -> dict:
    """Write the archive as a ZIP (files, manifest.json, timeline.csv) and return the manifest.

    Each file's size and sha256 in the manifest are those of the bytes written; a file whose bytes
    are gone from storage is listed under missing_files instead.
    """
    archive = crane_archive(session, crane, viewer)
    files, missing = [], []
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for item in archive.files:
            digest, size = hashlib.sha256(), 0
            chunks = read_chunks(item.attachment)
            try:
                first = next(chunks, b"")  # opens the stored file: no ZIP entry for a file that is gone
            except FileNotFoundError:
                missing.append({"attachment_id": item.attachment.id, "name": item.attachment.original_name,
                                "sha256": item.attachment.sha256})
                continue
            with zf.open(item.path, "w", force_zip64=item.attachment.size > 2**31) as out:
                for chunk in itertools.chain((first,), chunks):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
            files.append({"path": item.path, "attachment_id": item.attachment.id, "name": item.attachment.original_name,
                          "content_type": item.attachment.content_type, "size": size, "sha256": digest.hexdigest(),
                          "matches_upload": digest.hexdigest() == item.attachment.sha256})
        manifest = {"format": FORMAT, "generated_at": _iso(generated_at or datetime.now(CHINA_TZ)),
                    "crane": archive.facts, "timeline": archive.timeline, "files": files, "missing_files": missing}
        zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
        zf.writestr("timeline.csv", timeline_csv(archive.timeline))
    return manifest


def archive_zip(session: Session, crane: Crane, viewer: User | None = None) -> bytes:
    buffer = io.BytesIO()
    write_archive_zip(session, crane, buffer, viewer)
    return buffer.getvalue()
