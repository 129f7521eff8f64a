"""API endpoints. Each checks identity here and role + scope in the service it calls."""
import re
import tempfile
from urllib.parse import quote

from flask import current_app, g, jsonify, request, send_file
from marshmallow import ValidationError

from engine.db import ProcessInstance
from engine.errors import InvalidInput
from engine.services import (archive, attachments, cases, cranes, enterprise_filing, four_eyes, inbox, operations,
                             personnel, prefill, projects, task_claims)
from engine.services.accounts import authenticate, issue_token
from forms import form_json_schema, t
from forms.api import CompleteTaskRequest, ListQuery, ReassignRequest, SessionRequest, StartCaseRequest, TaskQuery
from forms.enterprise import SignUpSchema
from forms.fields import today_in_china
from forms.operations import OperationRecordSchema
from forms.personnel import PersonSchema
from forms.projects import ProjectQuery, ProjectStatusSchema

from ..transactions import write
from ..extensions import db
from ..security import login_required
from . import bp
from .payloads import (attachment_json, case_json, crane_json, form_data_json, ledger_json, operation_json, person_json,
                       project_json, task_json, user_json)


def _load(schema_cls, source):
    try:
        return schema_cls().load(source)
    except ValidationError as exc:
        raise InvalidInput(exc.messages) from None


def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput({"_body": [t("json_object")]})
    return body


def _query(schema_cls) -> dict:
    return _load(schema_cls, {k: v for k, v in request.args.items() if k != "lang"})


@bp.post("/v1/session")
def create_session():
    body = _load(SessionRequest, _json_body())
    with write() as s:
        user = authenticate(s, body["username"], body["password"])
        if user is None:
            return jsonify({"error": "unauthorized", "message": "invalid credentials or locked account"}), 401
        payload = {"token": issue_token(current_app.config["SECRET_KEY"], user), "user": user_json(user)}
    return jsonify(payload), 201


@bp.post("/v1/enterprises")
def register_enterprise():
    """Self-service sign-up of an enterprise and its first account (no login needed)."""
    body = _load(SignUpSchema, _json_body())
    with write() as s:
        user = enterprise_filing.register_enterprise(s, data=body)
        payload = {"token": issue_token(current_app.config["SECRET_KEY"], user), "user": user_json(user)}
    return jsonify(payload), 201


@bp.get("/v1/me")
@login_required
def me():
    return jsonify(user_json(g.user))


@bp.get("/v1/processes")
@login_required
def processes():
    locale = "en" if request.accept_languages.best_match(["zh", "en"]) == "en" else "zh_CN"
    return jsonify({"items": [{"key": e.key, "name": e.name(locale)}
                              for e in cases.startable_processes(g.user)]})


@bp.post("/v1/cases")
@login_required
def start_case():
    body = _load(StartCaseRequest, _json_body())
    with write() as s:
        instance = cases.start_case(s, actor=g.user, process_key=body["process_key"], data=body["data"])
        payload = case_json(instance, open_tasks=cases.case_tasks(s, instance, "open"))
    return jsonify(payload), 201


@bp.get("/v1/cases")
@login_required
def list_cases():
    q = _query(ListQuery)
    rows, total = cases.list_cases(db.session, user=g.user, status=q["status"], page=q["page"],
                                   per_page=q["per_page"])
    return jsonify({"items": [case_json(r) for r in rows], "total": total, "page": q["page"]})


@bp.get("/v1/cases/<int:case_id>")
@login_required
def get_case(case_id: int):
    instance = cases.get_case(db.session, actor=g.user, case_id=case_id)
    return jsonify(case_json(instance, history=cases.case_history(db.session, instance),
                             open_tasks=cases.case_tasks(db.session, instance, "open")))


@bp.get("/v1/cases/<int:case_id>/diagram")
@login_required
def case_diagram(case_id: int):
    return jsonify(cases.case_diagram(db.session, actor=g.user, case_id=case_id))


@bp.get("/v1/tasks")
@login_required
def list_tasks():
    q = _load(lambda: TaskQuery(jurisdiction=g.user.region_code if g.user.kind == "regulator" else None),
              {k: v for k, v in request.args.items() if k != "lang"})
    page = inbox.list_inbox(db.session, user=g.user, **q)
    barred = four_eyes.barred_task_ids(db.session, g.user, page.tasks)
    return jsonify({"items": [{**task_json(t), "four_eyes_barred": t.id in barred} for t in page.tasks],
                    "total": page.total,
                    "total_capped": page.total_capped, "page": page.page, "per_page": page.per_page})


@bp.get("/v1/tasks/<int:task_id>")
@login_required
def get_task(task_id: int):
    task = cases.get_task(db.session, actor=g.user, task_id=task_id)
    out = task_json(task)
    out["form_schema"] = form_json_schema(task.form_key)
    instance = db.session.get(ProcessInstance, task.instance_id)
    applicant = instance.applicant_enterprise_id
    # The step of this case that bars the caller from this one under the four-eyes rule, if any.
    out["four_eyes_conflict"] = (four_eyes.conflicting_step(db.session, instance, task, g.user)
                                 if task.status == "open" else None)
    out["data"] = form_data_json(out["form_schema"], prefill.task_form_data(db.session, task), g.user, applicant)
    return jsonify(out)


@bp.post("/v1/tasks/<int:task_id>/complete")
@login_required
def complete_task(task_id: int):
    body = _load(CompleteTaskRequest, _json_body())
    with write() as s:
        instance = cases.complete_task(s, actor=g.user, task_id=task_id, data=body["data"])
        payload = case_json(instance, open_tasks=cases.case_tasks(s, instance, "open"))
    return jsonify(payload), 200


@bp.post("/v1/tasks/<int:task_id>/claim")
@login_required
def claim_task(task_id: int):
    with write() as s:
        payload = task_json(task_claims.claim(s, actor=g.user, task_id=task_id))
    return jsonify(payload), 200


@bp.post("/v1/tasks/<int:task_id>/unclaim")
@login_required
def unclaim_task(task_id: int):
    with write() as s:
        payload = task_json(task_claims.unclaim(s, actor=g.user, task_id=task_id))
    return jsonify(payload), 200


@bp.post("/v1/tasks/<int:task_id>/reassign")
@login_required
def reassign_task(task_id: int):
    body = _load(ReassignRequest, _json_body())
    with write() as s:
        payload = task_json(task_claims.reassign(s, actor=g.user, task_id=task_id, user_id=body["user_id"],
                                                 reason=body["reason"]))
    return jsonify(payload), 200


@bp.post("/v1/attachments")
@login_required
def upload_attachment():
    upload = request.files.get("file")
    if upload is None:
        raise InvalidInput({"file": [t("required")]})
    with write() as s:
        att = attachments.store_upload(s, actor=g.user, filename=upload.filename, stream=upload.stream)
        payload = attachment_json(att)
    return jsonify(payload), 201


@bp.get("/v1/attachments/<int:attachment_id>")
@login_required
def download_attachment(attachment_id: int):
    att, path = attachments.open_attachment(db.session, user=g.user, attachment_id=attachment_id)
    return send_file(path, mimetype=att.content_type, as_attachment=True, download_name=att.original_name)


@bp.get("/v1/cranes")
@login_required
def list_cranes():
    q = _query(ListQuery)
    rows, total = cranes.list_cranes(db.session, user=g.user, status=q["status"], page=q["page"],
                                     per_page=q["per_page"])
    return jsonify({"items": [crane_json(c) for c in rows], "total": total, "page": q["page"]})


@bp.get("/v1/cranes/<int:crane_id>")
@login_required
def get_crane(crane_id: int):
    crane = cranes.get_crane(db.session, user=g.user, crane_id=crane_id)
    out = crane_json(crane)
    out["cases"] = [case_json(c) for c in cranes.crane_cases(db.session, user=g.user, crane=crane)]
    return jsonify(out)


@bp.get("/v1/cranes/<int:crane_id>/archive")
@login_required
def crane_archive(crane_id: int):
    crane = cranes.get_crane(db.session, user=g.user, crane_id=crane_id)
    found = archive.crane_archive(db.session, crane, viewer=g.user)
    return jsonify({"crane": found.facts, "timeline": found.timeline})


@bp.get("/v1/cranes/<int:crane_id>/archive.zip")
@login_required
def crane_archive_zip(crane_id: int):
    crane = cranes.get_crane(db.session, user=g.user, crane_id=crane_id)
    target = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)
    archive.write_archive_zip(db.session, crane, target, viewer=g.user)
    target.seek(0)
    response = send_file(target, mimetype="application/zip")
    number = crane.record_number or str(crane.id)
    # The record number in full for browsers that read filename*, its ASCII letters for the rest.
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"safety-archive-{re.sub(r'[^0-9A-Za-z-]', '', number)}.zip\"; "
        f"filename*=UTF-8''{quote(f'安全技术档案-{number}.zip')}")
    return response


@bp.get("/v1/cranes/<int:crane_id>/operations")
@login_required
def crane_operations(crane_id: int):
    crane = cranes.get_crane(db.session, user=g.user, crane_id=crane_id)
    found = operations.operations_overview(db.session, crane, g.user, today_in_china())
    return jsonify({
        "items": [operation_json(r, found.attachments) for r in found.records],
        "self_checks": [{"month": m.month, "count": m.count, "required": m.required, "complete": m.complete}
                        for m in found.self_check_months],
        "self_check_shortfalls": [m.month for m in found.shortfalls],
        "open_faults": [r.id for r in found.open_faults], "may_record": found.may_record})


@bp.post("/v1/cranes/<int:crane_id>/operations")
@login_required
def add_crane_operation(crane_id: int):
    body = _load(OperationRecordSchema, _json_body())
    with write() as s:
        crane = cranes.get_crane(s, user=g.user, crane_id=crane_id)
        record = operations.record_operation(s, user=g.user, crane=crane, data=body)
        payload = operation_json(record, operations.record_attachments(s, [record]))
    return jsonify(payload), 201


@bp.get("/v1/projects")
@login_required
def list_projects():
    q = _query(ProjectQuery)
    rows, total = projects.list_projects(db.session, g.user, status=q["status"], q=q["q"], page=q["page"],
                                         per_page=q["per_page"])
    return jsonify({"items": [project_json(p) for p in rows], "total": total, "page": q["page"]})


@bp.get("/v1/projects/<int:project_id>")
@login_required
def get_project(project_id: int):
    project = projects.get_project(db.session, g.user, project_id)
    return jsonify(ledger_json(projects.project_ledger(db.session, project, viewer=g.user)))


@bp.post("/v1/projects/<int:project_id>/status")
@login_required
def set_project_status(project_id: int):
    body = _load(ProjectStatusSchema, _json_body())
    with write() as s:
        project = projects.get_project(s, g.user, project_id, lock=True)
        projects.set_project_status(s, g.user, project, body["status"], body["reason"])
        payload = project_json(project)
    return jsonify(payload), 200


@bp.get("/v1/personnel")
@login_required
def list_personnel():
    q = _query(ListQuery)
    rows, total = personnel.list_personnel(db.session, user=g.user, page=q["page"], per_page=q["per_page"])
    return jsonify({"items": [person_json(p) for p in rows], "total": total, "page": q["page"]})


@bp.post("/v1/personnel")
@login_required
def add_person():
    body = _load(PersonSchema, _json_body())
    with write() as s:
        payload = person_json(personnel.add_person(s, actor=g.user, data=body))
    return jsonify(payload), 201


@bp.get("/v1/personnel/<int:person_id>")
@login_required
def get_person(person_id: int):
    return jsonify(person_json(personnel.get_person(db.session, user=g.user, person_id=person_id)))
