"""The regulator's inbox (and any user's open tasks), and claiming tasks from it."""
from flask import abort, g, redirect, render_template, request, url_for
from marshmallow import ValidationError

from engine.db import ProcessInstance
from engine.errors import InvalidInput
from engine.services import inbox as inbox_service
from engine.services import cases, four_eyes, task_claims
from engine.services.access import can_act_on
from forms.api import TASK_CLAIM_FILTERS, TASK_SORTS, ReassignRequest, TaskQuery
from workflows.catalog import load_catalog

from ..extensions import db
from ..security import login_required
from ..transactions import write
from . import bp
from .paging import PER_PAGE

_FILTERS = ("process_key", "region", "overdue", "claimed", "q", "sort")


@bp.app_template_filter("sla")
def sla_filter(task):
    """The task's SLA (state, working days left) for the badge, or None."""
    return inbox_service.task_sla(task.due_at) if task.status == "open" else None


@bp.app_template_global("may_claim")
def may_claim(task) -> bool:
    return g.user.kind == "regulator" and task.status == "open" and can_act_on(g.user, task)


@bp.app_template_global("four_eyes_conflict")
def four_eyes_conflict(task) -> str | None:
    """The step of this case the user did that bars them from this task (four-eyes), or None."""
    if task.status != "open" or not can_act_on(g.user, task):
        return None
    instance = db.session.get(ProcessInstance, task.instance_id)
    return four_eyes.conflicting_step(db.session, instance, task, g.user)


@bp.get("/inbox")
@login_required
def inbox():
    # Empty form fields mean "no filter"; an unknown procedure is ignored as before.
    args = {k: v for k, v in request.args.items() if k in _FILTERS + ("status", "page") and v != ""}
    if args.get("process_key") not in load_catalog():
        args.pop("process_key", None)
    args["per_page"] = PER_PAGE
    jurisdiction = g.user.region_code if g.user.kind == "regulator" else None
    errors = {}
    try:
        query = TaskQuery(jurisdiction=jurisdiction).load(args)
    except ValidationError as exc:
        errors = exc.messages
        query = TaskQuery(jurisdiction=jurisdiction).load(
            {k: v for k, v in args.items() if k not in errors})
    page = inbox_service.list_inbox(db.session, user=g.user, **query)
    filters = {k: ("1" if query[k] is True else "" if query[k] in (None, False) else query[k]) for k in _FILTERS}
    # The filter fields as typed, so a refused value stays in its box next to its message.
    shown = {**filters, **{k: args.get(k, "") for k in errors}}
    return render_template("inbox/list.html", page=page, process_key=query["process_key"], status=query["status"],
                           processes=load_catalog(), filters=filters, shown=shown, errors=errors,
                           barred=four_eyes.barred_task_ids(db.session, g.user, page.tasks),
                           claim_filters=TASK_CLAIM_FILTERS, sorts=TASK_SORTS), 422 if errors else 200


def _back(task_id: int):
    target = request.form.get("next", "")
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return redirect(target)
    return redirect(url_for("pages.task", task_id=task_id))


@bp.post("/tasks/<int:task_id>/claim")
@login_required
def claim_task(task_id: int):
    with write() as s:
        task_claims.claim(s, actor=g.user, task_id=task_id)
    return _back(task_id)


@bp.post("/tasks/<int:task_id>/unclaim")
@login_required
def unclaim_task(task_id: int):
    with write() as s:
        task_claims.unclaim(s, actor=g.user, task_id=task_id)
    return _back(task_id)


@bp.route("/tasks/<int:task_id>/reassign", methods=["GET", "POST"])
@login_required
def reassign_task(task_id: int):
    task = cases.get_task(db.session, actor=g.user, task_id=task_id)  # 404 outside the user's scope
    if not may_claim(task):
        abort(403)
    errors, form = {}, {"user_id": "", "reason": ""}
    if request.method == "POST":
        form = {"user_id": request.form.get("user_id", ""), "reason": request.form.get("reason", "")}
        try:
            try:
                body = ReassignRequest().load(form)
            except ValidationError as exc:
                raise InvalidInput(exc.messages) from None
            with write() as s:
                task_claims.reassign(s, actor=g.user, task_id=task_id, user_id=body["user_id"],
                                     reason=body["reason"])
            return redirect(url_for("pages.inbox"))
        except InvalidInput as exc:
            db.session.rollback()
            errors = exc.errors
    colleagues = task_claims.eligible_assignees(db.session, g.user, task)
    return render_template("inbox/reassign.html", task=task, colleagues=colleagues, form=form,
                           errors=errors), 422 if errors else 200
