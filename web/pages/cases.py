"""My cases, starting a procedure, case detail and the task form."""
from flask import g, redirect, render_template, request, send_file, url_for
from sqlalchemy import select

from engine.db import Attachment, FilingSubmission, Inspection
from engine.errors import Conflict, InvalidInput
from engine.services import attachments, cases, cranes, prefill
from engine.services.access import can_act_on
from forms import form_json_schema
from forms.inspection import inspection_labels
from workflows.catalog import get_entry

from ..transactions import write
from ..extensions import db
from ..security import login_required
from . import bp
from .formdata import attachment_ids, from_html
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


def _cases_page(start_errors=None, status=200):
    page = page_arg()
    startable = cases.startable_processes(g.user)
    pick_crane = [e.key for e in startable if "crane_id" in e.start_fields]
    registrable = cranes.registrable_cranes(db.session, user=g.user) if pick_crane else []
    rows, total = cases.list_cases(db.session, user=g.user, page=page, per_page=PER_PAGE)
    open_tasks = {}
    for row in rows:
        open_tasks[row.id] = cases.case_tasks(db.session, row, "open")
    return render_template("cases/list.html", rows=rows, total=total, page=page, per_page=PER_PAGE,
                           open_tasks=open_tasks, startable=startable, start_errors=start_errors or {},
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
            instance = cases.start_case(s, actor=g.user, process_key=process_key, start=start_values)
            mine = [t for t in cases.case_tasks(s, instance, "open") if can_act_on(g.user, t)]
            target = url_for("pages.task", task_id=mine[0].id) if mine else url_for("pages.case", case_id=instance.id)
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


# Events that send work back to the applicant with a reason to act on.
SENT_BACK = ("returned_by_parties", "acceptance_failed", "inspection_failed")


def _return_reason(history, task):
    """The reason the work came back, shown above the open correction form: the latest reasoned
    event, when it was a return (or a failed check) and no decision came after it."""
    if task.status != "open" or task.enterprise_id is None:
        return None
    for event in reversed(history):
        detail = event.detail or {}
        if detail.get("decision") or event.action in SENT_BACK:
            sent_back = detail.get("decision") in ("return", "fail") or event.action in SENT_BACK
            return event if sent_back and detail.get("reason") else None
    return None


def _render_task(task, data, errors=None, status=200):
    instance = cases.get_case(db.session, actor=g.user, case_id=task.instance_id)
    history = cases.case_history(db.session, instance)
    last_reason = _return_reason(history, task)
    crane, submission = None, None
    if instance.subject_type == "crane" and instance.subject_id:
        crane = cranes.get_crane(db.session, user=g.user, crane_id=instance.subject_id)
    found = db.session.get(FilingSubmission, instance.id)
    if found is not None and found.form_key != task.form_key:  # a reviewer sees what was submitted
        submission = {"schema": form_json_schema(found.form_key), "data": found.data,
                      "attachments": _attachment_names(found.form_key, found.data)}
    return render_template("tasks/form.html", task=task, instance=instance, crane=crane, submission=submission,
                           schema=form_json_schema(task.form_key), data=data, errors=errors or {},
                           attachments=_attachment_names(task.form_key, data), last_reason=last_reason,
                           can_act=can_act_on(g.user, task) and task.status == "open"), status


def _attachment_names(form_key: str, data) -> dict:
    ids = attachment_ids(form_json_schema(form_key), data)
    if not ids:
        return {}
    return {a.id: a for a in db.session.query(Attachment).filter(Attachment.id.in_(ids))}


@bp.route("/tasks/<int:task_id>", methods=["GET", "POST"])
@login_required
def task(task_id: int):
    task = cases.get_task(db.session, actor=g.user, task_id=task_id)
    if request.method == "GET":
        return _render_task(task, prefill.task_form_data(db.session, task))
    schema = form_json_schema(task.form_key)
    data = from_html(schema, request.form, request.files, session_factory=write, actor=g.user)
    try:
        with write() as s:
            instance = cases.complete_task(s, actor=g.user, task_id=task.id, data=data)
            case_id = instance.id
    except InvalidInput as exc:
        db.session.rollback()  # end this request's read snapshot: the uploads were committed since
        return _render_task(task, data, errors=exc.errors, status=422)
    return redirect(url_for("pages.case", case_id=case_id, done=1))


@bp.get("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int):
    att, path = attachments.open_attachment(db.session, user=g.user, attachment_id=attachment_id)
    inline = request.args.get("inline") == "1"
    return send_file(path, mimetype=att.content_type, as_attachment=not inline,
                     download_name=att.original_name)

