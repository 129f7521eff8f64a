"""The admin process studio: versions, models, validation, deployment, diffs and case migration.

Identity is checked here; the admin role in the services (engine/services/definitions.py and
case_migration.py).
"""
from flask import Response, g, jsonify, request

from engine.errors import InvalidInput, NotFound
from engine.services import case_migration, definitions
from engine.services.operators import operator_names
from forms import current_locale, form_keys, t
from forms.messages import localized_problems
from forms.studio import MigrationRequest, ModelQuery, VersionPairQuery
from workflows.catalog import get_entry

from ..extensions import db
from ..security import login_required
from ..transactions import write
from . import bp
from .routes import _json_body, _load, _query


def _version_json(row: dict) -> dict:
    d = row["definition"]
    return {"version": d.version, "file_name": d.file_name, "sha256": d.sha256,
            "deployed_at": d.deployed_at.isoformat() if d.deployed_at else None,
            "deployed_by": d.deployed_by.display_name if d.deployed_by else None,
            "running": row["running"], "completed": row["completed"]}


def _process_json(item: dict) -> dict:
    entry = item["entry"]
    return {"key": entry.key, "name": entry.name(current_locale.get()), "file": entry.file,
            "lanes": sorted(entry.lanes), "versions": [_version_json(r) for r in item["versions"]]}


def _overview(key: str | None = None) -> list[dict]:
    items = definitions.process_overview(db.session, g.user)
    if key is None:
        return items
    found = [item for item in items if item["key"] == key]
    if not found:
        raise NotFound(t("process_unknown"))
    return found


def _model_upload(key: str) -> tuple[bytes, str]:
    """The model sent as a multipart `file`, or as the raw XML body (named by ?file_name=)."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise InvalidInput({"file": [t("required")]})
        limit = definitions.MAX_MODEL_MB * 1024 * 1024
        try:
            return upload.stream.read(limit + 1), upload.filename or ""
        finally:
            upload.close()  # a large upload is spooled to a temporary file
    query = _query(ModelQuery)
    entry = get_entry(key)
    if entry is None:
        raise NotFound(t("process_unknown"))
    return request.get_data(cache=False), query["file_name"] or entry.file


@bp.get("/v1/studio/processes")
@login_required
def studio_processes():
    return jsonify({"items": [_process_json(item) for item in _overview()]})


@bp.get("/v1/studio/processes/<key>")
@login_required
def studio_process(key: str):
    (item,) = _overview(key)
    out = _process_json(item)
    out.update(form_keys=sorted(form_keys()), operators=sorted(operator_names()))
    return jsonify(out)


@bp.get("/v1/studio/processes/<key>/versions/<int:version>/bpmn")
@login_required
def studio_model(key: str, version: int):
    found = definitions.get_version(db.session, g.user, key, version)
    response = Response(found.bpmn_xml, mimetype="application/xml")
    response.headers["Content-Disposition"] = f'attachment; filename="{key}-v{version}.bpmn"'
    return response


@bp.post("/v1/studio/processes/<key>/validate")
@login_required
def studio_validate(key: str):
    data, file_name = _model_upload(key)
    found = definitions.studio_validate(g.user, process_key=key, data=data, file_name=file_name)
    return jsonify({**found, "problems": localized_problems(found["problems"]), "valid": not found["problems"]})


@bp.post("/v1/studio/processes/<key>/deploy")
@login_required
def studio_deploy(key: str):
    data, file_name = _model_upload(key)
    with write() as s:
        definition, created = definitions.studio_deploy(s, g.user, process_key=key, data=data, file_name=file_name)
        payload = {"process_key": key, "version": definition.version, "created": created,
                   "file_name": definition.file_name, "sha256": definition.sha256}
    return jsonify(payload), 201 if created else 200


@bp.get("/v1/studio/processes/<key>/diff")
@login_required
def studio_diff(key: str):
    q = _query(VersionPairQuery)
    changes = definitions.diff_versions(db.session, g.user, key, q["from_version"], q["to_version"])
    return jsonify({"process_key": key, "from": q["from_version"], "to": q["to_version"], "changes": changes})


@bp.get("/v1/studio/processes/<key>/migration")
@login_required
def studio_migration_preview(key: str):
    q = _query(VersionPairQuery)
    rows = case_migration.preview(db.session, g.user, process_key=key, from_version=q["from_version"],
                                  to_version=q["to_version"])
    return jsonify({"process_key": key, "from": q["from_version"], "to": q["to_version"], "items": rows})


@bp.post("/v1/studio/processes/<key>/migration")
@login_required
def studio_migrate(key: str):
    body = _load(MigrationRequest, _json_body())
    with write() as s:
        results = case_migration.migrate(s, g.user, process_key=key, from_version=body["from_version"],
                                         to_version=body["to_version"], case_ids=body["case_ids"])
    return jsonify({"process_key": key, "from": body["from_version"], "to": body["to_version"],
                    "results": results})
