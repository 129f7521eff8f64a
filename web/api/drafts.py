"""Drafts of task forms and start forms: GET, PUT (save) and DELETE; role and scope in the service."""
from flask import g, jsonify, request
from marshmallow import ValidationError, fields

from engine.errors import InvalidInput, NotFound
from engine.services import drafts
from forms import t
from forms.base import BaseSchema

from ..extensions import db
from ..security import login_required
from ..transactions import write
from . import bp

# The JSON body may carry a little more than the stored draft (the {"data": …} wrapper, spacing).
MAX_BODY_BYTES = drafts.MAX_DRAFT_BYTES + 16 * 1024


class DraftRequest(BaseSchema):
    data = fields.Dict(required=True, metadata={"title": ("草稿内容", "Draft data")})


def _draft_body() -> dict | None:
    if (request.content_length or 0) > MAX_BODY_BYTES or len(request.get_data(cache=True)) > MAX_BODY_BYTES:
        return None
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput({"_body": [t("json_object")]})
    try:
        return DraftRequest().load(body)
    except ValidationError as exc:
        raise InvalidInput(exc.messages) from None


def _too_large():
    limit = f"{drafts.MAX_DRAFT_BYTES // 1024} KB"
    return jsonify({"error": "request_entity_too_large", "message": t("draft_too_large", limit=limit)}), 413


def draft_json(draft) -> dict:
    return {"task_id": draft.task_id, "process_key": draft.process_key, "data": draft.data, "size": draft.size,
            "updated_at": draft.updated_at.isoformat(), "updated_by_id": draft.user_id}


def _found(draft):
    if draft is None:
        raise NotFound("no draft")
    return jsonify(draft_json(draft))


@bp.get("/v1/tasks/<int:task_id>/draft")
@login_required
def get_task_draft(task_id: int):
    return _found(drafts.get_task_draft(db.session, user=g.user, task_id=task_id))


@bp.put("/v1/tasks/<int:task_id>/draft")
@login_required
def put_task_draft(task_id: int):
    body = _draft_body()
    if body is None:
        return _too_large()
    with write() as s:
        payload = draft_json(drafts.save_task_draft(s, user=g.user, task_id=task_id, data=body["data"]))
    return jsonify(payload), 200


@bp.delete("/v1/tasks/<int:task_id>/draft")
@login_required
def delete_task_draft(task_id: int):
    with write() as s:
        drafts.delete_task_draft(s, user=g.user, task_id=task_id)
    return "", 204


@bp.get("/v1/processes/<process_key>/draft")
@login_required
def get_start_draft(process_key: str):
    return _found(drafts.get_start_draft(db.session, user=g.user, process_key=process_key))


@bp.put("/v1/processes/<process_key>/draft")
@login_required
def put_start_draft(process_key: str):
    body = _draft_body()
    if body is None:
        return _too_large()
    with write() as s:
        payload = draft_json(drafts.save_start_draft(s, user=g.user, process_key=process_key, data=body["data"]))
    return jsonify(payload), 200


@bp.delete("/v1/processes/<process_key>/draft")
@login_required
def delete_start_draft(process_key: str):
    with write() as s:
        drafts.delete_start_draft(s, user=g.user, process_key=process_key)
    return "", 204
