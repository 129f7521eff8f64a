"""Admin studio pages: the modeler, the side-by-side diff of two versions and case migration."""
from flask import g, render_template, request, url_for
from marshmallow import ValidationError

from engine.errors import InvalidInput
from engine.services import case_migration, definitions
from forms.studio import MigrationRequest, VersionPairQuery

from ..extensions import db
from ..security import kinds_allowed
from ..transactions import write
from . import bp


def _pair(process_key: str) -> tuple[int, int]:
    """The versions to compare: from the query, else the two newest."""
    if "from" in request.args or "to" in request.args:
        try:
            q = VersionPairQuery().load({k: v for k, v in request.args.items() if k in ("from", "to")})
        except ValidationError as exc:
            raise InvalidInput(exc.messages) from None
        return q["from_version"], q["to_version"]
    newest = definitions.latest_definition(db.session, process_key).version
    return max(newest - 1, 1), newest


def _versions(process_key: str) -> list[int]:
    (item,) = [p for p in definitions.process_overview(db.session, g.user) if p["key"] == process_key] or [None]
    return [v["definition"].version for v in item["versions"]] if item else []


@bp.get("/admin/studio/<process_key>/v<int:version>")
@kinds_allowed("admin")
def studio_modeler(process_key: str, version: int):
    definition = definitions.get_version(db.session, g.user, process_key, version)
    return render_template("admin/modeler.html", definition=definition, process_key=process_key,
                           versions=_versions(process_key))


@bp.get("/admin/studio/<process_key>/diff")
@kinds_allowed("admin")
def studio_diff(process_key: str):
    old, new = _pair(process_key)
    changes = definitions.diff_versions(db.session, g.user, process_key, old, new)
    marks = {"old": {c["id"]: c["change"] for c in changes if c["change"] != "added"},
             "new": {c["id"]: c["change"] for c in changes if c["change"] != "removed"}}
    urls = [url_for("api.studio_model", key=process_key, version=v) for v in (old, new)]
    return render_template("admin/diff.html", process_key=process_key, old=old, new=new, changes=changes,
                           marks=marks, urls=urls)


@bp.route("/admin/studio/<process_key>/migration", methods=["GET", "POST"])
@kinds_allowed("admin")
def studio_migration(process_key: str):
    results = None
    if request.method == "POST":
        try:
            body = MigrationRequest().load({
                "from_version": request.form.get("from_version"), "to_version": request.form.get("to_version"),
                "case_ids": request.form.getlist("case_ids")})
        except ValidationError as exc:
            raise InvalidInput(exc.messages) from None
        with write() as s:
            results = case_migration.migrate(s, g.user, process_key=process_key, from_version=body["from_version"],
                                             to_version=body["to_version"], case_ids=body["case_ids"])
        old, new = body["from_version"], body["to_version"]
    else:
        old, new = _pair(process_key)
    rows = case_migration.preview(db.session, g.user, process_key=process_key, from_version=old, to_version=new)
    return render_template("admin/migration.html", process_key=process_key, old=old, new=new, rows=rows,
                           results=results, versions=_versions(process_key))
