"""The OpenAPI 3.1 document and a browsable page rendered from it (no CDN assets)."""
from flask import jsonify, render_template

from forms import FORMS, form_json_schema
from forms.api import (TASK_CLAIM_FILTERS, TASK_SORTS, CompleteTaskRequest, ReassignRequest, SessionRequest,
                       StartCaseRequest)
from forms.enterprise import SignUpSchema
from forms.operations import OperationRecordSchema
from forms.personnel import PersonSchema
from forms.projects import PROJECT_STATUSES, ProjectStatusSchema
from forms.jsonschema import schema_to_json

from . import bp

ERR = {"$ref": "#/components/schemas/Error"}


def _resp(desc, schema=None):
    body = {"description": desc}
    if schema is not None:
        body["content"] = {"application/json": {"schema": schema}}
    return body


def _op(summary, *, body=None, ok="200", ok_desc="OK", params=(), errors=(401, 403, 404, 422), auth=True):
    op = {"summary": summary, "responses": {ok: _resp(ok_desc)}}
    for code in errors:
        op["responses"][str(code)] = _resp({401: "not logged in", 403: "role or scope does not allow it",
                                             404: "not found or not visible to you", 409: "already done / not ready",
                                             422: "invalid input: errors maps each field to messages"}[code], ERR)
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if params:
        op["parameters"] = list(params)
    if not auth:
        op["security"] = []
    return op


def _download(op, mimetype):
    op["responses"]["200"]["content"] = {mimetype: {"schema": {"type": "string", "format": "binary"}}}
    return op


def _path_id(name):
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


def _query(name, schema):
    return {"name": name, "in": "query", "required": False, "schema": schema}


PAGING = (_query("page", {"type": "integer", "minimum": 1}),
          _query("per_page", {"type": "integer", "minimum": 1, "maximum": 100}))


def openapi_document() -> dict:
    forms = {f"form.{key}": form_json_schema(key) for key in FORMS}
    return {
        "openapi": "3.1.0",
        "info": {"title": "CraneFlow API", "version": "1.0.0",
                 "description": "建筑起重机械监管审批系统接口。Authenticate with POST /api/v1/session and send "
                                "`Authorization: Bearer <token>`. Error messages follow Accept-Language or ?lang=."},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "properties": {
                    "error": {"type": "string"}, "message": {"type": "string"},
                    "errors": {"type": "object", "additionalProperties": True}}},
                "SessionRequest": schema_to_json(SessionRequest()),
                "SignUpRequest": schema_to_json(SignUpSchema()),
                "PersonRequest": schema_to_json(PersonSchema()),
                "ProjectStatusRequest": schema_to_json(ProjectStatusSchema()),
                "StartCaseRequest": schema_to_json(StartCaseRequest()),
                "CompleteTaskRequest": schema_to_json(CompleteTaskRequest()),
                "ReassignRequest": schema_to_json(ReassignRequest()),
                **forms,
            },
        },
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/session": {"post": _op("Log in; returns a bearer token and the user",
                                            body={"$ref": "#/components/schemas/SessionRequest"},
                                            ok="201", errors=(401, 422), auth=False)},
            "/api/v1/enterprises": {"post": _op(
                "Self-service sign-up: an enterprise (by its unified social credit code) and its first "
                "account; then start the enterprise_filing process", body={"$ref": "#/components/schemas/SignUpRequest"},
                ok="201", errors=(422,), auth=False)},
            "/api/v1/me": {"get": _op("The current user", errors=(401,))},
            "/api/v1/processes": {"get": _op("Procedures the user may start", errors=(401,))},
            "/api/v1/cases": {
                "get": _op("Cases visible to the user", params=PAGING, errors=(401, 422)),
                "post": _op("Start a case; optional data is the starter's first task submission",
                            body={"$ref": "#/components/schemas/StartCaseRequest"}, ok="201"),
            },
            "/api/v1/cases/{id}": {"get": _op("Case status, history and open tasks", params=(_path_id("id"),),
                                              errors=(401, 404))},
            "/api/v1/cases/{id}/diagram": {"get": _op(
                "The case diagram: `xml`, the BPMN model of the definition version the case runs on; "
                "`completed`, the ids of the elements it has passed; `active`, the ids of the tasks and "
                "timer events it waits at now", params=(_path_id("id"),), errors=(401, 404))},
            "/api/v1/tasks": {"get": _op(
                "The user's inbox, sorted by due date; each task carries its SLA in working days "
                "(`sla.state`: overdue, due_soon, on_track) and its holder (`claimed_by`)", params=(
                _query("process_key", {"type": "string"}),
                _query("status", {"type": "string", "enum": ["open", "completed"]}),
                _query("region", {"type": "string", "pattern": "^[0-9]{6}$",
                                  "description": "a city or county code within your jurisdiction"}),
                _query("overdue", {"type": "boolean", "description": "only tasks past their due time"}),
                _query("claimed", {"type": "string", "enum": list(TASK_CLAIM_FILTERS),
                                   "description": "me: claimed by you; unclaimed: claimed by nobody"}),
                _query("q", {"type": "string", "minLength": 2, "maxLength": 64,
                             "description": "part of the case title or applicant name, or the start of the "
                                            "business key, crane record number or applicant credit code"}),
                _query("sort", {"type": "string", "enum": list(TASK_SORTS), "default": "due_asc"}), *PAGING),
                errors=(401, 422))},
            "/api/v1/tasks/{id}": {"get": _op("A task with its form (JSON Schema) and current data",
                                              params=(_path_id("id"),), errors=(401, 404))},
            "/api/v1/tasks/{id}/complete": {"post": _op(
                "Complete a task with its form data", params=(_path_id("id"),),
                body={"$ref": "#/components/schemas/CompleteTaskRequest"}, errors=(401, 403, 404, 409, 422))},
            "/api/v1/tasks/{id}/claim": {"post": _op(
                "Claim a task (regulators who may act on it): while claimed, only the holder completes it. "
                "409 when someone else holds it", params=(_path_id("id"),), errors=(401, 403, 404, 409))},
            "/api/v1/tasks/{id}/unclaim": {"post": _op(
                "Release your claim on a task (403 when someone else holds it, 409 when nobody does)",
                params=(_path_id("id"),), errors=(401, 403, 404, 409))},
            "/api/v1/tasks/{id}/reassign": {"post": _op(
                "Hand a task to a regulator of your office who may act on it, with a reason: by its holder, by "
                "anyone who may act on it while unclaimed, or by a higher-level office (409 otherwise)",
                params=(_path_id("id"),), body={"$ref": "#/components/schemas/ReassignRequest"},
                errors=(401, 403, 404, 409, 422))},
            "/api/v1/attachments": {"post": {
                "summary": "Upload a file (PDF, JPEG or PNG; size limited); form data refers to it by id",
                "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                    "type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}}}},
                "responses": {"201": _resp("stored"), "413": _resp("too large", ERR), "422": _resp("refused", ERR)}}},
            "/api/v1/attachments/{id}": {"get": _op("Download a file you may see", params=(_path_id("id"),),
                                                    errors=(401, 404))},
            "/api/v1/cranes": {"get": _op("Cranes visible to the user", params=PAGING, errors=(401, 422))},
            "/api/v1/personnel": {
                "get": _op("Personnel visible to the user (ID numbers masked)", params=PAGING, errors=(401, 422)),
                "post": _op("Register a person of your (approved) enterprise with certificates",
                            body={"$ref": "#/components/schemas/PersonRequest"}, ok="201", errors=(401, 403, 422)),
            },
            "/api/v1/personnel/{id}": {"get": _op("A person with certificates", params=(_path_id("id"),),
                                                  errors=(401, 404))},
            "/api/v1/cranes/{id}": {"get": _op("A crane record with its cases", params=(_path_id("id"),),
                                               errors=(401, 404))},
            "/api/v1/cranes/{id}/archive": {"get": _op(
                "The crane's safety technical archive (安全技术档案): its filing documents, every case about it with "
                "the steps and events recorded, the files submitted, spot checks and hazards naming it, in time order",
                params=(_path_id("id"),), errors=(401, 404))},
            "/api/v1/cranes/{id}/archive.zip": {"get": _download(_op(
                "The archive as a ZIP: manifest.json (crane facts, timeline, each file's path, size and sha256), "
                "timeline.csv (UTF-8 with BOM) and the files in folders per document and case",
                params=(_path_id("id"),), errors=(401, 404)), "application/zip")},
            "/api/v1/cranes/{id}/operations": {
                "get": _op("The crane's operation records (self-checks, maintenance, repairs, faults), the "
                           "self-checks per month of its current stay on site, and its open faults",
                           params=(_path_id("id"),), errors=(401, 404)),
                "post": _op("Append an operation record to the crane's archive (the owner, the user on site or "
                            "its installer; an integrated owner maintains its cranes itself)",
                            body=schema_to_json(OperationRecordSchema()), ok="201", ok_desc="recorded",
                            params=(_path_id("id"),))},
            "/api/v1/projects": {"get": _op(
                "Projects visible to the user (regulators: in their jurisdiction; enterprises: where they are "
                "the user, the supervision firm or a party of one of its cases)", params=(
                    _query("status", {"type": "string", "enum": list(PROJECT_STATUSES)}),
                    _query("q", {"type": "string", "description": "part of the project code or name"}), *PAGING),
                errors=(401, 422))},
            "/api/v1/projects/{id}": {"get": _op(
                "The project ledger (项目台账): parties, cranes with their state, notices and other cases, crews, "
                "inspections and open hazards, status history", params=(_path_id("id"),), errors=(401, 404))},
            "/api/v1/projects/{id}/status": {"post": _op(
                "Mark a project 在建 (under_construction) or 完工 (completed); regulators of the project's region "
                "only. 完工 is refused (409) while a crane is installed on it or a hazard is open",
                params=(_path_id("id"),), body={"$ref": "#/components/schemas/ProjectStatusRequest"},
                errors=(401, 403, 404, 409, 422))},
        },
    }


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(openapi_document())


@bp.get("/docs")
def docs_page():
    return render_template("api_docs.html", spec=openapi_document())
