"""My cases, starting a procedure, case detail and the task form."""
from flask import g, redirect, render_template, request, send_file, url_for
from sqlalchemy import select

from engine.db import Attachment, FilingSubmission, Inspection
from engine.db.cases import INSTANCE_STATUSES
from engine.errors import Conflict, CraneFlowError, InvalidInput
from engine.services import attachments, cases, cranes, drafts, portal, prefill
from engine.services.access import can_act_on
from engine.services.drafts import attachment_ids
from engine.services.report_submission import TASK_FORMS as REPORT_TASK_FORMS
from engine.services.settings import get_settings
from forms import form_json_schema
from forms.inspection import inspection_labels
from workflows.catalog import get_entry, load_catalog

from ..transactions import write
from ..extensions import db
from ..security import login_required
from . import bp
from .formdata import form_steps, from_html
from .paging import PER_PAGE, page_arg

@bp.get("/")
@login_required
def home():
    target = {"regulator": "pages.inbox", "admin": "pages.definitions"}.get(g.user.kind, "pages.my_cases")
    return redirect(url_for(target))


@bp.get("/cases")
@login_required
def my_cases():
    return _cases_page()


def _filters() -> dict:
    """The dashboard's status and procedure filters (unknown values are ignored, not refused)."""
    status = request.args.get("status", "")
    process_key = request.args.get("process_key", "")
    return {"status": status if status in INSTANCE_STATUSES else None,
            "process_key": process_key if process_key in load_catalog() else None}


def _cases_page(start_errors=None, status=200):
    page, filters = page_arg(), _filters()
    startable = cases.startable_processes(g.user)
    pick_crane = [e.key for e in startable if "crane_id" in e.start_fields]
    registrable = cranes.registrable_cranes(db.session, user=g.user) if pick_crane else []
    board = portal.dashboard(db.session, user=g.user, page=page, per_page=PER_PAGE, **filters)
    return render_template("cases/list.html", board=board, page=page, per_page=PER_PAGE, filters=filters,
                           filter_args={k: v for k, v in filters.items() if v},
                           processes=load_catalog(), statuses=INSTANCE_STATUSES,
                           startable=startable, start_errors=start_errors or {},
                           crane_choices={key: registrable for key in pick_crane}), status


@bp.post("/cases/start/<process_key>")
@login_required
def start(process_key: str):
    entry = get_entry(process_key)
    # A procedure about a crane picked on the page (e.g. use registration) gets it as a start field.
    start_values = {}
    for name in entry.start_fields if entry else ():
        raw = (request.form.get(name) or "").strip()
        if raw:
            start_values[name] = int(raw) if raw.isdigit() and len(raw) < 10 else raw
    try:
        with write() as s:
            carried = _start_draft(s, process_key)
            instance = cases.start_case(s, actor=g.user, process_key=process_key, start=start_values)
            mine = [t for t in cases.case_tasks(s, instance, "open") if can_act_on(g.user, t)]
            target = url_for("pages.task", task_id=mine[0].id) if mine else url_for("pages.case", case_id=instance.id)
            if mine and carried:
                _carry_draft(s, mine[0].id, carried)
    except InvalidInput as exc:
        db.session.rollback()
        problems = [m for messages in exc.errors.values() if isinstance(messages, list) for m in messages]
        return _cases_page(start_errors={process_key: problems or [exc.message]}, status=422)
    except Conflict as exc:
        db.session.rollback()
        return _cases_page(start_errors={process_key: [exc.message]}, status=409)
    return redirect(target)


@bp.get("/cases/<int:case_id>")
@login_required
def case(case_id: int):
    instance = cases.get_case(db.session, actor=g.user, case_id=case_id)
    crane = None
    if instance.subject_type == "crane" and instance.subject_id:
        crane = cranes.get_crane(db.session, user=g.user, crane_id=instance.subject_id)
    tasks = cases.case_tasks(db.session, instance, "open")
    inspection = db.session.scalar(select(Inspection).where(Inspection.instance_id == instance.id)) \
        if instance.process_key == "inspection_rectification" else None
    return render_template("cases/detail.html", instance=instance, crane=crane, inspection=inspection,
                           labels=inspection_labels() if inspection else {},
                           history=cases.case_history(db.session, instance), tasks=tasks,
                           step_titles=cases.step_titles(db.session, instance),
                           actionable={t.id for t in tasks if can_act_on(g.user, t)})


def _start_draft(session, process_key: str):
    """A start-form draft (saved through the API) becomes the draft of the case's first task."""
    try:
        draft = drafts.get_start_draft(session, user=g.user, process_key=process_key)
    except CraneFlowError:
        return None
    return draft.data if draft else None


def _carry_draft(session, task_id: int, data: dict) -> None:
    try:
        with session.begin_nested():
            drafts.save_task_draft(session, user=g.user, task_id=task_id, data=data)
    except InvalidInput:
        pass  # a draft for another form shape is left behind rather than blocking the start


def _render_task(task, data, errors=None, status=200, draft=None):
    instance = cases.get_case(db.session, actor=g.user, case_id=task.instance_id)
    history = cases.case_history(db.session, instance)
    last_reason = portal.return_reason(history, task)
    crane, submission = None, None
    if instance.subject_type == "crane" and instance.subject_id:
        crane = cranes.get_crane(db.session, user=g.user, crane_id=instance.subject_id)
    found = db.session.get(FilingSubmission, instance.id)
    if found is not None and found.form_key != task.form_key:  # a reviewer sees what was submitted
        submission = {"schema": form_json_schema(found.form_key), "data": found.data,
                      "attachments": _attachment_names(found.form_key, found.data)}
    schema = form_json_schema(task.form_key)
    can_act = can_act_on(g.user, task) and task.status == "open"
    return render_template("tasks/form.html", task=task, instance=instance, crane=crane, submission=submission,
                           schema=schema, steps=form_steps(schema), data=data, errors=errors or {},
                           attachments=_attachment_names(task.form_key, data), last_reason=last_reason,
                           can_act=can_act, draft=draft, may_draft=can_act and g.user.kind == "enterprise",
                           max_upload=get_settings().max_upload_bytes), status


def _attachment_names(form_key: str, data) -> dict:
    ids = attachment_ids(form_json_schema(form_key), data)
    if not ids:
        return {}
    return {a.id: a for a in db.session.query(Attachment).filter(Attachment.id.in_(ids))}


@bp.route("/tasks/<int:task_id>", methods=["GET", "POST"])
@login_required
def task(task_id: int):
    task = cases.get_task(db.session, actor=g.user, task_id=task_id)
    if task.form_key in REPORT_TASK_FORMS:  # a report's fields come from its definition: its own page
        return redirect(url_for("pages.report_task", task_id=task.id))
    if request.method == "GET":
        draft = _open_draft(task)
        data = draft.data if draft else prefill.task_form_data(db.session, task)
        return _render_task(task, data, draft=draft)
    schema = form_json_schema(task.form_key)
    data = from_html(schema, request.form, request.files, session_factory=write, actor=g.user)
    if request.form.get("cf_action") == "draft":
        return _save_draft(task, data)
    try:
        with write() as s:
            instance = cases.complete_task(s, actor=g.user, task_id=task.id, data=data)
            case_id = instance.id  # completing the task deleted its draft (engine.db.drafts)
    except InvalidInput as exc:
        db.session.rollback()  # end this request's read snapshot: the uploads were committed since
        return _render_task(task, data, errors=exc.errors, status=422)
    return redirect(url_for("pages.case", case_id=case_id, done=1))


def _open_draft(task):
    if g.user.kind != "enterprise" or task.status != "open" or not can_act_on(g.user, task):
        return None
    return drafts.get_task_draft(db.session, user=g.user, task_id=task.id)


def _save_draft(task, data):
    try:
        with write() as s:
            drafts.save_task_draft(s, user=g.user, task_id=task.id, data=data)
    except InvalidInput as exc:
        db.session.rollback()
        return _render_task(task, data, errors=exc.errors, status=422)
    return redirect(url_for("pages.task", task_id=task.id, saved=1))


@bp.get("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int):
    att, path = attachments.open_attachment(db.session, user=g.user, attachment_id=attachment_id)
    inline = request.args.get("inline") == "1"
    return send_file(path, mimetype=att.content_type, as_attachment=not inline,
                     download_name=att.original_name)

