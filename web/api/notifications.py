"""My notifications: list, unread count, mark one or all read (only one's own: others' are 404)."""
from flask import g, jsonify, request
from marshmallow import ValidationError

from engine.errors import InvalidInput
from engine.services import notifications
from forms import current_locale
from forms.notifications import NotificationQuery

from ..extensions import db
from ..security import login_required
from ..transactions import write
from . import bp


def notification_json(row) -> dict:
    title, body = notifications.render(row, current_locale.get())
    return {"id": row.id, "kind": row.kind, "title": title, "body": body, "link": row.link,
            "case_id": row.instance_id, "created_at": row.created_at.isoformat(),
            "read_at": row.read_at.isoformat() if row.read_at else None, "read": row.read_at is not None}


@bp.get("/v1/notifications")
@login_required
def list_notifications():
    try:
        q = NotificationQuery().load({k: v for k, v in request.args.items() if k != "lang"})
    except ValidationError as exc:
        raise InvalidInput(exc.messages) from None
    rows, total = notifications.list_notifications(db.session, user=g.user, page=q["page"], per_page=q["per_page"],
                                                   unread_only=q["unread"])
    return jsonify({"items": [notification_json(r) for r in rows], "total": total, "page": q["page"],
                    "per_page": q["per_page"], "unread": notifications.unread_count(db.session, g.user)})


@bp.post("/v1/notifications/<int:notification_id>/read")
@login_required
def read_notification(notification_id: int):
    with write() as s:
        payload = notification_json(notifications.mark_read(s, user=g.user, notification_id=notification_id))
    return jsonify(payload)


@bp.post("/v1/notifications/read-all")
@login_required
def read_all_notifications():
    with write() as s:
        marked = notifications.mark_all_read(s, user=g.user)
    return jsonify({"marked": marked, "unread": 0})
