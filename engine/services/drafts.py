"""Drafts: unsubmitted form values kept server-side for an enterprise, checked for shape and size
but not against the form's rules (those apply on submission).

A task draft is shared by the enterprise that acts on the task; a start-form draft belongs to one
user and procedure. Either is visible only within its enterprise.
"""
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.db import HumanTask, ProcessInstance, TaskDraft, User, utcnow
from engine.errors import Conflict, InvalidInput, NotFound, NotPermitted
from forms import form_json_schema, t
from workflows.catalog import get_entry

from engine.bpmn.assignment import form_key_of

from .access import can_act_on, can_see_case, holds_role
from .attachments import foreign_uploads
from .definitions import latest_definition, parsed_definition

MAX_DRAFT_BYTES = 256 * 1024
MAX_ROWS = 50  # repeated rows in one list field of a draft


def attachment_ids(schema: dict, data) -> set[int]:
    """Every attachment id in form data, wherever the schema puts upload fields (rows included)."""
    found: set[int] = set()
    if not isinstance(data, dict):
        return found
    for name, prop in schema.get("properties", {}).items():
        value = data.get(name)
        if prop.get("type") == "object":
            found |= attachment_ids(prop, value)
        elif prop.get("type") == "array" and prop.get("x-attachments"):
            found |= {i for i in value or () if isinstance(i, int) and not isinstance(i, bool)}
        elif prop.get("type") == "array" and prop["items"].get("type") == "object":
            for row in value if isinstance(value, list) else ():
                found |= attachment_ids(prop["items"], row)
    return found


def _kind(prop: dict) -> str | None:
    kind = prop.get("type")
    return kind[0] if isinstance(kind, list) else kind


def _shaped(prop: dict, value, path: str, errors: dict):
    """`value` if it has the shape the schema gives `path` (object, list or scalar), else None with
    the problem recorded: a draft may be incomplete or wrong, but never unrenderable."""
    kind = _kind(prop)
    if value is None:
        return None
    if kind == "object":
        if not isinstance(value, dict):
            errors[path] = [t("invalid")]
            return None
        out = {}
        for name, sub in value.items():
            if name not in prop.get("properties", {}):
                errors[f"{path}.{name}" if path else name] = [t("unknown")]
            else:
                out[name] = _shaped(prop["properties"][name], sub, f"{path}.{name}" if path else name, errors)
        return out
    if kind == "array":
        if not isinstance(value, list) or len(value) > MAX_ROWS:
            errors[path] = [t("type_list")]
            return None
        if prop.get("x-attachments") and not all(isinstance(i, int) and not isinstance(i, bool) for i in value):
            errors[path] = [t("attachment_unknown")]
            return None
        if any(item is None for item in value):
            errors[path] = [t("null")]
            return None
        return [_shaped(prop["items"], item, f"{path}.{index}", errors) for index, item in enumerate(value)]
    if not isinstance(value, (str, int, float, bool)):
        errors[path] = [t("invalid")]
        return None
    return value


def clean_draft(session: Session, user: User, form_key: str, data) -> tuple[dict, int]:
    """The draft data as it will be stored, and its size in bytes; InvalidInput names the field."""
    if not isinstance(data, dict):
        raise InvalidInput({"data": [t("json_object")]})
    size = len(json.dumps(data, ensure_ascii=False).encode())
    if size > MAX_DRAFT_BYTES:
        raise InvalidInput({"data": [t("draft_too_large", limit=f"{MAX_DRAFT_BYTES // 1024} KB")]})
    schema = form_json_schema(form_key)
    errors: dict = {}
    cleaned = _shaped(schema, data, "", errors)
    if errors:
        raise InvalidInput(errors)
    if foreign_uploads(session, user, attachment_ids(schema, cleaned)):
        raise InvalidInput({"data": [t("attachment_unknown")]})
    return cleaned, size


def _enterprise_user(user: User) -> None:
    if user.kind != "enterprise" or user.enterprise_id is None:
        raise NotPermitted(t("drafts_enterprise_only"))


def draft_task(session: Session, user: User, task_id: int) -> HumanTask:
    """The open task whose draft the user may keep: one its enterprise acts on."""
    task = session.get(HumanTask, task_id)
    if task is None:
        raise NotFound("task not found")
    may_act = can_act_on(user, task)
    if not may_act and not can_see_case(user, session.get(ProcessInstance, task.instance_id), session):
        raise NotFound("task not found")
    _enterprise_user(user)
    if not may_act:
        raise NotPermitted(t("task_not_actionable"))
    if task.status != "open":
        raise Conflict(t("task_not_open"))
    return task


def _startable(user: User, process_key: str):
    entry = get_entry(process_key)
    if entry is None:
        raise NotFound(t("process_unknown"))
    _enterprise_user(user)
    if not holds_role(user, entry.starter):
        raise NotPermitted("not permitted to start this process")
    return entry


def start_form_key(session: Session, process_key: str) -> str:
    """The form of the starter's first task in the deployed model (what a start form submits)."""
    entry = get_entry(process_key)
    spec = parsed_definition(latest_definition(session, process_key)).spec
    queue, seen = [spec.start], set()
    while queue:
        task_spec = queue.pop(0)
        if task_spec.name in seen:
            continue
        seen.add(task_spec.name)
        lane = entry.lanes.get(getattr(task_spec, "lane", None) or "")
        if form_key_of(task_spec) and lane is not None and lane.role == entry.starter:
            return form_key_of(task_spec)
        queue.extend(task_spec.outputs)
    raise NotFound(t("process_unknown"))


def get_task_draft(session: Session, *, user: User, task_id: int) -> TaskDraft | None:
    task = draft_task(session, user, task_id)
    return session.scalar(select(TaskDraft).where(TaskDraft.task_id == task.id,
                                                  TaskDraft.enterprise_id == user.enterprise_id))


def save_task_draft(session: Session, *, user: User, task_id: int, data) -> TaskDraft:
    task = draft_task(session, user, task_id)
    cleaned, size = clean_draft(session, user, task.form_key, data)
    return _upsert(session, select(TaskDraft).where(TaskDraft.task_id == task.id),
                   dict(task_id=task.id, user_id=user.id, enterprise_id=user.enterprise_id), cleaned, size)


def delete_task_draft(session: Session, *, user: User, task_id: int) -> bool:
    draft = get_task_draft(session, user=user, task_id=task_id)
    if draft is not None:
        session.delete(draft)
    return draft is not None


def _start_draft_query(user: User, process_key: str):
    return select(TaskDraft).where(TaskDraft.task_id.is_(None), TaskDraft.process_key == process_key,
                                   TaskDraft.user_id == user.id, TaskDraft.enterprise_id == user.enterprise_id)


def get_start_draft(session: Session, *, user: User, process_key: str) -> TaskDraft | None:
    _startable(user, process_key)
    return session.scalar(_start_draft_query(user, process_key))


def save_start_draft(session: Session, *, user: User, process_key: str, data) -> TaskDraft:
    _startable(user, process_key)
    cleaned, size = clean_draft(session, user, start_form_key(session, process_key), data)
    return _upsert(session, _start_draft_query(user, process_key),
                   dict(process_key=process_key, user_id=user.id, enterprise_id=user.enterprise_id), cleaned, size)


def delete_start_draft(session: Session, *, user: User, process_key: str) -> bool:
    draft = get_start_draft(session, user=user, process_key=process_key)
    if draft is not None:
        session.delete(draft)
    return draft is not None


def _upsert(session: Session, query, key: dict, data: dict, size: int) -> TaskDraft:
    draft = session.scalar(query.with_for_update())
    if draft is None:
        try:
            with session.begin_nested():  # two first saves at once: the loser updates the winner's row
                draft = TaskDraft(**key, data=data, size=size, updated_at=utcnow())
                session.add(draft)
            return draft
        except IntegrityError:
            draft = session.scalar(query.with_for_update())
            if draft is None:
                raise
    draft.data, draft.size, draft.updated_at = data, size, utcnow()
    draft.user_id = key["user_id"]
    return draft


@dataclass(frozen=True)
class DraftEntry:
    draft_id: int
    task_id: int | None
    process_key: str | None
    title: str
    case_title: str
    updated_at: datetime


def list_drafts(session: Session, *, user: User, limit: int = 20) -> list[DraftEntry]:
    """The enterprise's drafts of open tasks and the user's start-form drafts, newest first (one query)."""
    if user.kind != "enterprise" or user.enterprise_id is None:
        return []
    rows = session.execute(
        select(TaskDraft.id, TaskDraft.task_id, TaskDraft.process_key, TaskDraft.updated_at,
               HumanTask.title, HumanTask.case_title, HumanTask.process_key)
        .outerjoin(HumanTask, HumanTask.id == TaskDraft.task_id)
        .where(TaskDraft.enterprise_id == user.enterprise_id,
               ((TaskDraft.task_id.is_not(None)) & (HumanTask.status == "open"))
               | ((TaskDraft.task_id.is_(None)) & (TaskDraft.user_id == user.id)))
        .order_by(TaskDraft.updated_at.desc(), TaskDraft.id.desc()).limit(limit)).all()
    return [DraftEntry(r[0], r[1], r[2] or r[6], r[4] or "", r[5] or "", r[3]) for r in rows]
