"""The OpenAPI 3.1 document and a browsable page rendered from it (no CDN assets)."""
from flask import jsonify, render_template

from engine.db.jobs import JOB_STATES, MESSAGE_STATES
from forms import FORMS, form_json_schema
from forms.accounts import ACCOUNT_STATUSES, AccountCreateSchema, ChangePasswordSchema, ResetPasswordSchema
from forms.api import (TASK_CLAIM_FILTERS, TASK_SORTS, CompleteTaskRequest, ReassignRequest, SessionRequest,
                       StartCaseRequest)
from forms.enterprise import SignUpSchema
from forms.operations import OperationRecordSchema
from forms.personnel import PersonSchema
from forms.projects import PROJECT_STATUSES, ProjectStatusSchema
from forms.jsonschema import schema_to_json
from forms.studio import MigrationRequest

from .drafts import DraftRequest

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
                                             413: "request body too large",
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


def _path_key():
    return {"name": "key", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 64}}


def _query(name, schema):
    return {"name": name, "in": "query", "required": False, "schema": schema}


PAGING = (_query("page", {"type": "integer", "minimum": 1}),
          _query("per_page", {"type": "integer", "minimum": 1, "maximum": 100}))


def _account_paths() -> dict:
    """Account administration (hierarchical: province → city → county; enterprise admins their own users)."""
    acct, act = (_path_id("id"),), (401, 403, 404, 422)
    return {
        "/api/v1/accounts": {
            "get": _op("Accounts you may administer: a regional account administrator those of its region and "
                       "below, an enterprise administrator its enterprise's users", params=(
                           _query("level", {"type": "string", "enum": ["province", "city", "county"]}),
                           _query("region", {"type": "string", "pattern": "^[0-9]{6}$",
                                             "description": "a region within your jurisdiction (and below it)"}),
                           _query("status", {"type": "string", "enum": list(ACCOUNT_STATUSES)}),
                           _query("q", {"type": "string", "description": "part of the username or name"}), *PAGING),
                       errors=(401, 403, 422)),
            "post": _op("Create an account: a regulator of your jurisdiction at your level or below, or an "
                        "administrator exactly one level below; enterprise administrators create users of their "
                        "enterprise. The initial password (given or generated) is returned once and must be "
                        "changed at the first login. 403 names the reason (level, jurisdiction)",
                        body=schema_to_json(AccountCreateSchema()), ok="201", ok_desc="created",
                        errors=(401, 403, 422)),
        },
        "/api/v1/accounts/{id}": {"get": _op("An account in your scope, with `manageable` and the `refusal` "
                                             "reason when you may not manage it", params=acct, errors=(401, 403, 404))},
        "/api/v1/accounts/{id}/disable": {"post": _op("Disable an account you manage (its sessions and tokens end)",
                                                      params=acct, errors=act)},
        "/api/v1/accounts/{id}/enable": {"post": _op("Enable an account you manage", params=acct, errors=act)},
        "/api/v1/accounts/{id}/unlock": {"post": _op("Unlock an account locked after failed logins",
                                                     params=acct, errors=act)},
        "/api/v1/accounts/{id}/reset-password": {"post": _op(
            "Set a temporary password (given, or generated when omitted; returned once as `temporary_password`); "
            "the user must change it at the next login and its sessions and tokens end",
            body=schema_to_json(ResetPasswordSchema()), params=acct, errors=act)},
        "/api/v1/me/password": {"post": _op(
            "Change your own password (policy: at least 10 characters with letters and digits); returns a new "
            "token, the other sessions and tokens end", body=schema_to_json(ChangePasswordSchema()),
            errors=(401, 422))},
    }


def _studio_paths() -> dict:
    """The admin process studio (admins only: everyone else gets 403)."""
    key = {"name": "key", "in": "path", "required": True, "schema": {"type": "string"},
           "description": "a catalog process key, e.g. crane_registration"}
    version = {"name": "version", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
    pair = (key, {"name": "from", "in": "query", "required": True, "schema": {"type": "integer", "minimum": 1}},
            {"name": "to", "in": "query", "required": True, "schema": {"type": "integer", "minimum": 1}})
    model = {"required": True, "content": {
        "application/xml": {"schema": {"type": "string"}},
        "multipart/form-data": {"schema": {"type": "object", "properties": {
            "file": {"type": "string", "format": "binary", "description": ".bpmn or .xml, at most 2 MB"}}}}}}
    file_name = {"name": "file_name", "in": "query", "required": False, "schema": {"type": "string"},
                 "description": "the file name of a raw XML body (default: the catalog's file)"}

    def with_model(op):
        op["requestBody"] = model
        return op

    return {
        "/api/v1/studio/processes": {"get": _op(
            "Catalog processes with their deployed versions: deployer, time, running and completed cases per "
            "version", errors=(401, 403))},
        "/api/v1/studio/processes/{key}": {"get": _op(
            "One process with its versions, its catalog lanes and the known form keys and service operators "
            "(what the modeler's properties panel offers)", params=(key,), errors=(401, 403, 404))},
        "/api/v1/studio/processes/{key}/versions/{version}/bpmn": {"get": _download(_op(
            "The BPMN XML of a deployed version (as a .bpmn download)", params=(key, version),
            errors=(401, 403, 404)), "application/xml")},
        "/api/v1/studio/processes/{key}/validate": {"post": with_model(_op(
            "Validate a model (raw XML body or multipart `file`): 200 with `problems` (file, line, element, "
            "message; empty when deployable) and the model's `xml`; 422 when the file cannot be opened (not "
            ".bpmn/.xml, over 2 MB, not UTF-8, malformed XML with its line, a DOCTYPE, no process with this "
            "key), with `errors` or `problems`", params=(key, file_name), errors=(401, 403, 404, 422)))},
        "/api/v1/studio/processes/{key}/deploy": {"post": with_model(_op(
            "Deploy a model as a new immutable version (201); identical content answers 200 with the existing "
            "version; a model with problems is refused (422, `problems`)", params=(key, file_name), ok="201",
            ok_desc="deployed", errors=(401, 403, 404, 422)))},
        "/api/v1/studio/processes/{key}/diff": {"get": _op(
            "What changed between two versions: per element id its type, name and the change (added, removed, "
            "or the fields changed: name, lane, formKey, condition, operator, source, target, timer)",
            params=pair, errors=(401, 403, 404, 422))},
        "/api/v1/studio/processes/{key}/migration": {
            "get": _op("Preview moving the running cases of version `from` to version `to`: each case with "
                       "`eligible` or the `reason` it cannot move", params=pair, errors=(401, 403, 404, 422)),
            "post": _op("Move the given running cases to the target version; each is locked and checked again, "
                        "and moves entirely or not at all (`results` per case, with the reason when refused)",
                        params=(key,), body=schema_to_json(MigrationRequest()), errors=(401, 403, 404, 422))},
    }


def _ops_paths() -> dict:
    """Operations (system administrators only: everyone else gets 403)."""
    paging = (_query("page", {"type": "integer", "minimum": 1}),
              _query("per_page", {"type": "integer", "minimum": 1, "maximum": 100}))
    return {
        "/api/v1/ops/overview": {"get": _op(
            "Backlogs (due jobs pending/queued/failed, outbox messages pending/running/dead), the lateness of the "
            "timer jobs fired in the last hour (count, p50, p95, max in ms) and each background process's "
            "heartbeat with its age", errors=(401, 403))},
        "/api/v1/ops/jobs": {"get": _op(
            "Due jobs in one state, newest due first: kind, case, due time, attempts, last error", params=(
                _query("status", {"type": "string", "enum": list(JOB_STATES), "default": "failed"}), *paging),
            errors=(401, 403, 422))},
        "/api/v1/ops/jobs/{id}/retry": {"post": _op(
            "Queue a failed job again, due now (audited; clears its case's incident); 409 unless it failed",
            params=(_path_id("id"),), errors=(401, 403, 404, 409))},
        "/api/v1/ops/incidents": {"get": _op(
            "Cases whose background step failed, with the error", params=paging, errors=(401, 403, 422))},
        "/api/v1/ops/messages": {"get": _op(
            "Outbox messages in one state, newest first: topic, idempotency key, attempts, last error", params=(
                _query("status", {"type": "string", "enum": list(MESSAGE_STATES), "default": "dead"}), *paging),
            errors=(401, 403, 422))},
        "/api/v1/ops/messages/{id}/resend": {"post": _op(
            "Send a dead message again with a fresh count of attempts (audited); 409 unless it is dead",
            params=(_path_id("id"),), errors=(401, 403, 404, 409))},
        "/api/v1/ops/audit-verification": {
            "get": _op("The tamper-evident audit chains: chains and events counted (from the chain heads) and the "
                       "last verification (`ok`, and per broken chain its first broken link: chain, seq, event_id, "
                       "instance_id, reason: content_altered, link_broken, tail_missing, head_altered or "
                       "head_missing); `pending` while a verification is queued or running", errors=(401, 403)),
            "post": _op("Queue a verification of every audit chain in the background (recompute each link's HMAC, "
                        "the links and the heads; the result becomes GET's `last_verification`, and a broken chain "
                        "notifies the system administrators); `queued` is false when one was waiting already. "
                        "The chains are also verified once a day (AUDIT_VERIFY_DAILY)", ok="202",
                        ok_desc="queued", errors=(401, 403))},
    }


def _usage_report_paths() -> dict:
    """The usage report (regulators only: enterprises and administrators get 403)."""
    date = {"type": "string", "format": "date"}
    return {"/api/v1/reports/usage": {"get": _op(
        "The usage report (使用情况通报) of a region for a period: per subdivision (the province: its cities; a "
        "city: its counties; a county: itself) and per procedure, cases started and completed, the review lead "
        "time (median and p90 in working days), the share of reviews within the legal limit, review tasks open "
        "past their limit at the end of the period, cases flagged overdue, and the regulators active in the "
        "system; a total row and the regions with the lowest within-limit share. Give one period: `from` and "
        "`to` (at most one year), `month`, `quarter` or `year`; none is the last full month. A region outside "
        "your jurisdiction is 403, an unknown one 404", params=(
            _query("from", date), _query("to", date),
            _query("month", {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$", "example": "2026-10"}),
            _query("quarter", {"type": "string", "pattern": "^[0-9]{4}-Q[1-4]$", "example": "2026-Q3"}),
            _query("year", {"type": "integer", "minimum": 2000, "maximum": 2100}),
            _query("region", {"type": "string", "pattern": "^[0-9]{6}$",
                              "description": "a region within your jurisdiction (default: your own)"})),
        errors=(401, 403, 404, 422))},
    }


def _notification_paths() -> dict:
    """My notifications (every logged-in user, only their own: another user's id is 404)."""
    return {
        "/api/v1/notifications": {"get": _op(
            "Your notifications, newest first, with title and body in the request language, the link to the "
            "task, case or record concerned, and `unread` (the bell's count)", params=(
                _query("unread", {"type": "boolean", "description": "only unread ones"}), *PAGING),
            errors=(401, 422))},
        "/api/v1/notifications/{id}/read": {"post": _op(
            "Mark one of your notifications read (404 for anyone else's)", params=(_path_id("id"),),
            errors=(401, 404))},
        "/api/v1/notifications/read-all": {"post": _op("Mark all your notifications read", errors=(401,))},
    }


def _report_submission_paths() -> dict:
    """Periodic reports (报表报送): the province defines and publishes; regulators follow their jurisdiction's."""
    from forms.report_submission import ReportDefinitionSchema

    return {
        "/api/v1/report-definitions": {
            "get": _op("Report definitions: the province's drafts and published reports; cities and counties the "
                       "published ones; enterprises and the system administrator 403", errors=(401, 403)),
            "post": _op("Define a periodic report (province regulators): title, period, deadline, fields "
                        "{key, label_zh, label_en, type integer/decimal/text, required, prefill}; with `publish` "
                        "it is published at once", body=schema_to_json(ReportDefinitionSchema()), ok="201",
                        ok_desc="defined", errors=(401, 403, 409, 422))},
        "/api/v1/report-definitions/{id}/publish": {"post": _op(
            "Publish a draft (province regulators): one submission per city (and per county when asked), each "
            "opened as a report_submission case in the region's inbox", params=(_path_id("id"),),
            errors=(401, 403, 404, 409))},
        "/api/v1/report-definitions/{id}/close": {"post": _op(
            "Close a published report (province regulators): regions that have not submitted are recorded as "
            "missed and their fill tasks withdrawn (their cases end as cancelled); refused (409) while a "
            "submission awaits review", params=(_path_id("id"),), errors=(401, 403, 404, 409))},
        "/api/v1/report-submissions": {"get": _op(
            "Submissions in your jurisdiction (the province: every region) with their status (`state` shows "
            "overdue ones, with `days_overdue`), values, case and open task", params=(
                _query("definition_id", {"type": "integer", "minimum": 1}),), errors=(401, 403, 422))},
    }


def _statistics_paths() -> dict:
    """Regulator statistics (regulators only, within their jurisdiction; everyone else gets 403)."""
    from engine.services.statistics import SECTIONS

    section = {"name": "section", "in": "path", "required": True,
               "schema": {"type": "string", "enum": list(SECTIONS)},
               "description": "cranes (filed cranes by region, type and state), ages (age bands and JGJ/T 189 "
                              "assessments), monthly (applications per month), processing (review time against "
                              "the legal limits), supervision (spot checks, hazards, notices, re-inspections per "
                              "month), overdue (open notices past their deadline, with days overdue)"}
    return {"/api/v1/statistics/{section}": {"get": _op(
        "One section of the statistics dashboard: its columns (key, title, kind) and rows, for your region or "
        "a region within it (`children` lists the regions to drill down to). A region outside your "
        "jurisdiction, or above it, is 403; an unknown region or section 404", params=(
            section,
            _query("region", {"type": "string", "pattern": "^[0-9]{6}$",
                              "description": "a region within your jurisdiction (default: yours)"}),
            _query("period", {"type": "string", "description": "6m, 12m (default) or 24m up to this month, "
                                                               "or a calendar year YYYY"})),
        errors=(401, 403, 404, 422))}}


def _exchange_paths() -> dict:
    """Data exchange pull API (regulators; docs/data-exchange.md describes the records)."""
    return {"/api/v1/exchange/changes": {"get": _op(
        "Change records after a cursor, oldest first (`changes`, `next_cursor`, `has_more`): province regulators "
        "all of them, city and county regulators those of their jurisdiction; enterprises 403. Pass the "
        "`next_cursor` of one page as `after` of the next; the records are those pushed to EXCHANGE_PUSH_URL",
        params=(_query("after", {"type": "integer", "minimum": 0, "default": 0,
                                 "description": "the cursor: records with a greater id"}),
                _query("limit", {"type": "integer", "minimum": 1, "maximum": 500, "default": 100})),
        errors=(401, 403, 422))}}


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
                "DraftRequest": schema_to_json(DraftRequest()),
                **forms,
            },
        },
        "security": [{"bearer": []}],
        "paths": {
            **_account_paths(),
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
            "/api/v1/tasks/{id}/draft": {
                "get": _op("The saved draft of an open task your enterprise acts on (404 when there is none)",
                           params=(_path_id("id"),), errors=(401, 403, 404, 409)),
                "put": _op("Save the unsubmitted values of the task's form as a draft, shared within your "
                           "enterprise: checked for shape and size, not for the form's rules; completing the task "
                           "deletes it", params=(_path_id("id"),), body={"$ref": "#/components/schemas/DraftRequest"},
                           errors=(401, 403, 404, 409, 413, 422)),
                "delete": _op("Discard the task's draft", params=(_path_id("id"),), ok="204", ok_desc="deleted",
                              errors=(401, 403, 404, 409))},
            "/api/v1/processes/{key}/draft": {
                "get": _op("Your draft of a procedure's start form (404 when there is none)",
                           params=(_path_key(),), errors=(401, 403, 404)),
                "put": _op("Save a draft of the start form of a procedure you may start; starting the case "
                           "deletes it (on the pages it becomes the draft of the case's first task)",
                           params=(_path_key(),), body={"$ref": "#/components/schemas/DraftRequest"},
                           errors=(401, 403, 404, 413, 422)),
                "delete": _op("Discard your draft of the start form", params=(_path_key(),), ok="204",
                              ok_desc="deleted", errors=(401, 403, 404))},
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
            "/api/v1/cranes/{id}/certificates/{kind}": {"get": _download(_op(
                "The crane's certificate as a signed A4 PDF: `filing` (建筑起重机械备案证明, while the record is "
                "live) or `use_registration` (建筑起重机械使用登记证明, while registered); 404 when the crane has no "
                "such fact. Its QR code links to the public verification page /verify/c/{number}",
                params=(_path_id("id"), {"name": "kind", "in": "path", "required": True,
                                         "schema": {"type": "string", "enum": ["filing", "use_registration"]}}),
                errors=(401, 404)), "application/pdf")},
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
            **_studio_paths(),
            **_ops_paths(),
            **_usage_report_paths(),
            **_notification_paths(),
            **_exchange_paths(),
            **_report_submission_paths(),
            **_statistics_paths(),
        },
    }


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(openapi_document())


@bp.get("/docs")
def docs_page():
    return render_template("api_docs.html", spec=openapi_document())
