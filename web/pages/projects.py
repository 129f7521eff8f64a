"""Project ledger pages (项目台账): the projects the user may see, one project's ledger, and the
authority's 在建 / 完工 mark."""
from flask import g, redirect, render_template, request, url_for
from marshmallow import ValidationError

from engine.errors import Conflict, NotPermitted
from engine.services import projects as project_service
from forms import t
from forms.inspection import CHECK_TYPES, GRADES, INSTRUMENTS
from forms.projects import PROJECT_STATUSES, ProjectStatusSchema

from ..extensions import db
from ..security import login_required
from ..transactions import write
from . import bp
from .paging import PER_PAGE, page_arg


@bp.get("/projects")
@login_required
def projects():
    page = page_arg()
    status = request.args.get("status") if request.args.get("status") in PROJECT_STATUSES else None
    q = (request.args.get("q") or "").strip()[:64] or None
    rows, total = project_service.list_projects(db.session, g.user, status=status, q=q, page=page, per_page=PER_PAGE)
    return render_template("projects/list.html", rows=rows, total=total, page=page, per_page=PER_PAGE,
                           status=status, q=q, statuses=PROJECT_STATUSES)


def _ledger_page(project, form=None, errors=None, conflict=None, status=200):
    ledger = project_service.project_ledger(db.session, project, viewer=g.user)
    return render_template("projects/detail.html", ledger=ledger, project=project, statuses=PROJECT_STATUSES,
                           can_mark=project_service.may_set_status(g.user, project), form=form or {},
                           errors=errors or {}, conflict=conflict, check_types=CHECK_TYPES, grades=GRADES,
                           instruments=INSTRUMENTS), status


@bp.get("/projects/<int:project_id>")
@login_required
def project(project_id: int):
    return _ledger_page(project_service.get_project(db.session, g.user, project_id))


@bp.post("/projects/<int:project_id>/status")
@login_required
def project_status(project_id: int):
    project = project_service.get_project(db.session, g.user, project_id)
    if not project_service.may_set_status(g.user, project):
        raise NotPermitted(t("project_status_not_permitted"))
    form = {"status": request.form.get("status", ""), "reason": request.form.get("reason", "")}
    try:
        cleaned = ProjectStatusSchema().load(form)
    except ValidationError as exc:
        return _ledger_page(project, form, errors=exc.messages, status=422)
    try:
        with write() as s:
            project_service.set_project_status(s, g.user, project_service.get_project(s, g.user, project_id, lock=True),
                                               cleaned["status"], cleaned["reason"])
    except Conflict as exc:
        db.session.rollback()
        return _ledger_page(project, form, conflict=exc.message, status=409)
    return redirect(url_for("pages.project", project_id=project_id, done=1))
