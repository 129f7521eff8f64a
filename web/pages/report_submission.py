"""Periodic report pages (报表报送): the province defines and publishes reports, every regulator
follows the submissions of its jurisdiction, and the report's two tasks (fill in, review)."""
import re

from flask import abort, g, redirect, render_template, request, url_for
from marshmallow import ValidationError

from engine.errors import InvalidInput
from engine.services import cases, report_submission as reports
from engine.services.access import can_act_on
from forms.fields import today_in_china
from forms.report_submission import (DECISIONS, FIELD_TYPES, PERIOD_TYPES, PREFILL_SOURCES, ReportDefinitionSchema,
                                     field_label)

from ..extensions import db
from ..security import kinds_allowed
from ..transactions import write
from . import bp

INT = re.compile(r"^\d{1,15}$")
BLANK_ROWS = 2
MAX_ROWS = 30
FIELD_ATTRS = ("key", "label_zh", "label_en", "type", "prefill")


def _int_or_raw(raw: str):
    raw = (raw or "").strip()
    return int(raw) if INT.match(raw) else raw


def _posted_definition(form) -> tuple[dict, list[dict]]:
    """The definition form as schema input, and its field rows as typed (rows ticked for removal
    and blank rows are left out of the input)."""
    rows = []
    for index in range(MAX_ROWS):
        row = {name: (form.get(f"fields-{index}-{name}") or "").strip() for name in FIELD_ATTRS}
        row["required"] = form.get(f"fields-{index}-required") == "1"
        if form.get(f"fields-{index}-remove") == "1" or not (row["key"] or row["label_zh"]):
            continue
        rows.append(row)
    body = {"title": form.get("title", ""), "period_type": form.get("period_type", ""),
            "year": _int_or_raw(form.get("year")), "number": _int_or_raw(form.get("number")),
            "deadline_on": form.get("deadline_on", ""), "include_counties": form.get("include_counties") == "1",
            "fields": rows}
    return body, rows


def _definitions_page(form=None, rows=None, errors=None, status=200, blank=BLANK_ROWS):
    definitions = reports.list_definitions(db.session, user=g.user)
    rows = (rows or [])[:MAX_ROWS]
    return render_template("reports/definitions.html", definitions=definitions, form=form or {},
                           rows=rows + [{}] * min(blank, MAX_ROWS - len(rows)), errors=errors or {},
                           may_define=g.user.regulator_level == "province", field_types=FIELD_TYPES,
                           period_types=PERIOD_TYPES, sources=PREFILL_SOURCES), status


@bp.get("/reports/definitions")
@kinds_allowed("regulator")
def report_definitions():
    return _definitions_page()


@bp.post("/reports/definitions")
@kinds_allowed("regulator")
def create_report_definition():
    reports.require_province(g.user)
    body, rows = _posted_definition(request.form)
    if request.form.get("cf_action") == "add_row":  # one row more than were shown, nothing saved
        shown = sum(1 for index in range(MAX_ROWS) if f"fields-{index}-key" in request.form)
        return _definitions_page(body, rows, blank=max(shown - len(rows), 0) + 1)
    try:
        cleaned = ReportDefinitionSchema().load({**body, "publish": request.form.get("cf_action") == "publish"})
    except ValidationError as exc:
        return _definitions_page(body, rows, errors=exc.messages, status=422)
    with write() as s:
        definition = reports.create_definition(s, actor=g.user, data=cleaned)
        definition_id, published = definition.id, definition.status == "published"
    if published:
        return redirect(url_for("pages.report_submissions", definition=definition_id, done=1))
    return redirect(url_for("pages.report_definitions", saved=definition_id))


@bp.post("/reports/definitions/<int:definition_id>/publish")
@kinds_allowed("regulator")
def publish_report_definition(definition_id: int):
    with write() as s:
        reports.publish_definition(s, actor=g.user, definition_id=definition_id)
    return redirect(url_for("pages.report_submissions", definition=definition_id, done=1))


@bp.post("/reports/definitions/<int:definition_id>/close")
@kinds_allowed("regulator")
def close_report_definition(definition_id: int):
    with write() as s:
        reports.close_definition(s, actor=g.user, definition_id=definition_id)
    return redirect(url_for("pages.report_submissions", definition=definition_id, closed=1))


@bp.get("/reports/submissions")
@kinds_allowed("regulator")
def report_submissions():
    raw = request.args.get("definition", "")
    chosen = int(raw) if INT.match(raw) and len(raw) < 10 else None
    rows = reports.list_submissions(db.session, user=g.user, definition_id=chosen)
    groups: dict = {}
    for row in rows:
        groups.setdefault(row.submission.definition_id, []).append(row)
    return render_template("reports/submissions.html", groups=groups, chosen=chosen,
                           may_act={row.open_task.id for row in rows
                                    if row.open_task and can_act_on(g.user, row.open_task)})


def _posted_values(definition, form) -> dict:
    values = {}
    for field in definition.fields:
        raw = (form.get(f"values.{field['key']}") or "").strip()
        if raw:
            values[field["key"]] = _int_or_raw(raw) if field["type"] == "integer" else raw
    return values


def _render_task(task, submission, data, errors=None, status=200):
    instance = cases.get_case(db.session, actor=g.user, case_id=task.instance_id)
    definition = submission.definition
    state, days = reports.display_state(submission, today_in_china())
    return render_template("reports/submissions_task.html", task=task, instance=instance, submission=submission,
                           definition=definition, state=state, days_overdue=days, data=data, errors=errors or {},
                           labels={f["key"]: field_label(f) for f in definition.fields}, sources=PREFILL_SOURCES,
                           decisions=DECISIONS, can_act=task.status == "open" and can_act_on(g.user, task)), status


@bp.route("/reports/tasks/<int:task_id>", methods=["GET", "POST"])
@kinds_allowed("regulator")
def report_task(task_id: int):
    task = cases.get_task(db.session, actor=g.user, task_id=task_id)  # 404 outside the user's scope
    if task.form_key not in reports.TASK_FORMS:
        abort(404)
    submission = reports.submission_of_case(db.session, task.instance_id)
    if request.method == "GET":
        instance = cases.get_case(db.session, actor=g.user, case_id=task.instance_id)
        data = reports.fill_form_data(db.session, instance) if task.form_key == "report_fill" else {}
        return _render_task(task, submission, data)
    if task.form_key == "report_fill":
        data = {"values": _posted_values(submission.definition, request.form)}
    else:
        data = {"decision": request.form.get("decision", ""), "reason": request.form.get("reason", "")}
    try:
        with write() as s:
            cases.complete_task(s, actor=g.user, task_id=task.id, data=data)
    except InvalidInput as exc:
        db.session.rollback()
        return _render_task(task, submission, data, errors=exc.errors, status=422)
    return redirect(url_for("pages.report_submissions", definition=submission.definition_id, done=1))
