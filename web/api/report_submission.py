"""Periodic reports (报表报送) API: the province's report definitions and the submissions' status."""
from flask import g, jsonify, request

from engine.errors import InvalidInput
from engine.services import report_submission as reports
from forms import t
from forms.report_submission import ReportDefinitionSchema

from ..extensions import db
from ..security import login_required
from ..transactions import write
from . import bp
from .routes import _json_body, _load


def _iso(value):
    return value.isoformat() if value is not None else None


def definition_json(d) -> dict:
    return {"id": d.id, "title": d.title, "period": d.period_label, "period_start": _iso(d.period_start),
            "period_end": _iso(d.period_end), "deadline_on": _iso(d.deadline_on), "fields": d.fields,
            "include_counties": d.include_counties, "status": d.status, "created_at": _iso(d.created_at),
            "published_at": _iso(d.published_at)}


def submission_json(row) -> dict:
    s = row.submission
    return {"id": s.id, "definition_id": s.definition_id, "region_code": s.region_code, "case_id": s.instance_id,
            "status": s.status, "state": row.state, "days_overdue": row.days_overdue,
            "overdue_since": _iso(s.overdue_since), "values": s.values, "submitted_at": _iso(s.submitted_at),
            "accepted_at": _iso(s.accepted_at), "return_reason": s.return_reason,
            "open_task": ({"id": row.open_task.id, "name": row.open_task.task_name} if row.open_task else None)}


@bp.get("/v1/report-definitions")
@login_required
def list_report_definitions():
    return jsonify({"items": [definition_json(d) for d in reports.list_definitions(db.session, user=g.user)]})


@bp.post("/v1/report-definitions")
@login_required
def create_report_definition():
    reports.require_province(g.user)  # role first: others learn nothing from validation
    body = _load(ReportDefinitionSchema, _json_body())
    with write() as s:
        payload = definition_json(reports.create_definition(s, actor=g.user, data=body))
    return jsonify(payload), 201


@bp.post("/v1/report-definitions/<int:definition_id>/publish")
@login_required
def publish_report_definition(definition_id: int):
    with write() as s:
        payload = definition_json(reports.publish_definition(s, actor=g.user, definition_id=definition_id))
    return jsonify(payload), 200


@bp.post("/v1/report-definitions/<int:definition_id>/close")
@login_required
def close_report_definition(definition_id: int):
    with write() as s:
        payload = definition_json(reports.close_definition(s, actor=g.user, definition_id=definition_id))
    return jsonify(payload), 200


@bp.get("/v1/report-submissions")
@login_required
def list_report_submissions():
    raw = request.args.get("definition_id", "")
    chosen = int(raw) if raw.isdigit() and len(raw) < 10 else None
    if raw and chosen is None:
        raise InvalidInput({"definition_id": [t("type_integer")]})
    rows = reports.list_submissions(db.session, user=g.user, definition_id=chosen)
    return jsonify({"items": [submission_json(r) for r in rows]})
