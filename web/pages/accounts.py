"""Account administration pages and the change-my-password page."""
from flask import abort, g, redirect, render_template, request, session, url_for
from marshmallow import ValidationError

from engine.domain.regions import all_regions, is_within
from engine.errors import InvalidInput, NotPermitted
from engine.services import account_admin
from engine.services.accounts import MAX_FAILED_LOGINS
from forms.messages import t
from forms.accounts import AccountCreateSchema, AccountQuery, ChangePasswordSchema

from ..extensions import db
from ..security import login_required
from ..transactions import write
from . import bp
from .paging import PER_PAGE

ACTIONS = ("disable", "enable", "unlock")


def _jurisdiction_regions():
    if account_admin.manager_scope(g.user) != "regional":
        return []
    return [r for r in all_regions() if is_within(r.code, g.user.region_code)]


def _form(source, names) -> dict:
    """Posted text fields; blank ones are left out (optional fields then take their defaults)."""
    return {k: source.get(k, "").strip() for k in names if source.get(k, "").strip()}


@bp.get("/accounts")
@login_required
def accounts():
    args = _form(request.args, ("level", "region", "status", "q", "page"))
    jurisdiction = g.user.region_code if g.user.kind == "regulator" else None
    try:
        q = AccountQuery(jurisdiction=jurisdiction).load(args)
        errors = {}
    except ValidationError as exc:
        q, errors = AccountQuery().load({}), exc.messages
    q["per_page"] = PER_PAGE
    rows, total = account_admin.list_accounts(db.session, actor=g.user, **q)
    return render_template("accounts/list.html", rows=rows, total=total, page=q["page"], per_page=PER_PAGE,
                           filters=args, errors=errors, regions=_jurisdiction_regions(),
                           pager_args={k: v for k, v in args.items() if k != "page"},
                           max_failed=MAX_FAILED_LOGINS), (422 if errors else 200)


@bp.route("/accounts/new", methods=["GET", "POST"])
@login_required
def new_account():
    if account_admin.manager_scope(g.user) is None:
        raise NotPermitted(t("accounts_not_admin"))
    data, errors = {}, {}
    if request.method == "POST":
        data = _form(request.form, ("username", "display_name", "password", "regulator_level", "region_code"))
        if request.form.get("account_admin"):
            data["account_admin"] = True
        try:
            cleaned = AccountCreateSchema().load(data)
            with write() as s:
                user, password = account_admin.create_account(s, actor=g.user, data=cleaned)
                created = {"id": user.id, "username": user.username, "display_name": user.display_name}
        except ValidationError as exc:
            errors = exc.messages
        except InvalidInput as exc:
            errors = exc.errors
        except NotPermitted as exc:
            errors = {"_form": [exc.message]}
        else:
            # Shown once, on this answer only; it is not stored in clear anywhere.
            return render_template("accounts/password_shown.html", account=created, password=password,
                                   created=True)
    return render_template("accounts/new.html", data=data, errors=errors, regions=_jurisdiction_regions(),
                           regional=account_admin.manager_scope(g.user) == "regional"), (422 if errors else 200)


@bp.get("/accounts/<int:account_id>")
@login_required
def account_detail(account_id: int):
    user = account_admin.get_account(db.session, actor=g.user, account_id=account_id)
    return render_template("accounts/detail.html", account=user, refusal=account_admin.refusal(g.user, user),
                           done=request.args.get("done"), max_failed=MAX_FAILED_LOGINS)


@bp.post("/accounts/<int:account_id>/<action>")
@login_required
def account_action(account_id: int, action: str):
    if action not in ACTIONS:
        abort(404)
    with write() as s:
        if action == "unlock":
            account_admin.unlock(s, actor=g.user, account_id=account_id)
        else:
            account_admin.set_active(s, actor=g.user, account_id=account_id, active=action == "enable")
    return redirect(url_for("pages.account_detail", account_id=account_id, done=action))


@bp.post("/accounts/<int:account_id>/reset-password")
@login_required
def account_reset_password(account_id: int):
    with write() as s:
        user, password = account_admin.reset_password(s, actor=g.user, account_id=account_id)
        shown = {"id": user.id, "username": user.username, "display_name": user.display_name}
    return render_template("accounts/password_shown.html", account=shown, password=password, created=False)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    errors = {}
    if request.method == "POST":
        data = {k: request.form.get(k, "") for k in ("current_password", "new_password", "confirm_password")}
        try:
            cleaned = ChangePasswordSchema().load(data)
            with write() as s:
                user = account_admin.change_own_password(s, actor=g.user, current_password=cleaned["current_password"],
                                                         new_password=cleaned["new_password"])
                version = user.token_version
        except ValidationError as exc:
            errors = exc.messages
        except InvalidInput as exc:
            errors = exc.errors
        else:
            session["tv"] = version  # this session stays; the others end
            return redirect(url_for("pages.home"))
    return render_template("accounts/change_password.html", errors=errors,
                           forced=g.user.must_change_password), (422 if errors else 200)
