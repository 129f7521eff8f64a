"""Account administration and password change endpoints; scope and level are checked in the service."""
from flask import current_app, g, jsonify, request, session
from marshmallow import ValidationError

from engine.errors import InvalidInput
from engine.services import account_admin
from engine.services.accounts import MAX_FAILED_LOGINS, issue_token
from forms import t
from forms.accounts import AccountCreateSchema, AccountQuery, ChangePasswordSchema, ResetPasswordSchema

from ..extensions import db
from ..security import login_required
from ..transactions import write
from . import bp


def _load(schema, source):
    try:
        return schema.load(source)
    except ValidationError as exc:
        raise InvalidInput(exc.messages) from None


def _body() -> dict:
    body = request.get_json(silent=True)
    if body is None and not request.get_data():
        return {}  # actions without options may be posted with no body
    if not isinstance(body, dict):
        raise InvalidInput({"_body": [t("json_object")]})
    return body


def _iso(value):
    return value.isoformat() if value else None


def account_json(user, actor) -> dict:
    reason = account_admin.refusal(actor, user) if account_admin.in_scope(actor, user) else None
    return {
        "id": user.id, "username": user.username, "display_name": user.display_name, "kind": user.kind,
        "enterprise_id": user.enterprise_id, "regulator_level": user.regulator_level,
        "region_code": user.region_code, "account_admin": user.account_admin, "is_active": user.is_active,
        "locked": user.failed_logins >= MAX_FAILED_LOGINS, "failed_logins": user.failed_logins,
        "must_change_password": user.must_change_password, "created_at": _iso(user.created_at),
        "created_by_id": user.created_by_id, "last_login_at": _iso(user.last_login_at),
        "password_changed_at": _iso(user.password_changed_at),
        "manageable": reason is None, "refusal": reason,
    }


@bp.get("/v1/accounts")
@login_required
def list_accounts():
    jurisdiction = g.user.region_code if g.user.kind == "regulator" else None
    q = _load(AccountQuery(jurisdiction=jurisdiction), {k: v for k, v in request.args.items() if k != "lang"})
    rows, total = account_admin.list_accounts(db.session, actor=g.user, **q)
    return jsonify({"items": [account_json(u, g.user) for u in rows], "total": total, "page": q["page"]})


@bp.post("/v1/accounts")
@login_required
def create_account():
    data = _load(AccountCreateSchema(), _body())
    with write() as s:
        user, password = account_admin.create_account(s, actor=g.user, data=data)
        payload = {**account_json(user, g.user), "initial_password": password}
    return jsonify(payload), 201


@bp.get("/v1/accounts/<int:account_id>")
@login_required
def get_account(account_id: int):
    user = account_admin.get_account(db.session, actor=g.user, account_id=account_id)
    return jsonify(account_json(user, g.user))


def _action(account_id: int, fn, **kwargs):
    _body()
    with write() as s:
        payload = account_json(fn(s, actor=g.user, account_id=account_id, **kwargs), g.user)
    return jsonify(payload), 200


@bp.post("/v1/accounts/<int:account_id>/disable")
@login_required
def disable_account(account_id: int):
    return _action(account_id, account_admin.set_active, active=False)


@bp.post("/v1/accounts/<int:account_id>/enable")
@login_required
def enable_account(account_id: int):
    return _action(account_id, account_admin.set_active, active=True)


@bp.post("/v1/accounts/<int:account_id>/unlock")
@login_required
def unlock_account(account_id: int):
    return _action(account_id, account_admin.unlock)


@bp.post("/v1/accounts/<int:account_id>/reset-password")
@login_required
def reset_account_password(account_id: int):
    data = _load(ResetPasswordSchema(), _body())
    with write() as s:
        user, password = account_admin.reset_password(s, actor=g.user, account_id=account_id,
                                                      password=data["password"])
        payload = {**account_json(user, g.user), "temporary_password": password}
    return jsonify(payload), 200


@bp.post("/v1/me/password")
@login_required
def change_my_password():
    """Other sessions and tokens end; this caller gets a new token (or its session is renewed)."""
    data = _load(ChangePasswordSchema(), _body())
    with write() as s:
        user = account_admin.change_own_password(s, actor=g.user, current_password=data["current_password"],
                                                 new_password=data["new_password"])
        token, version = issue_token(current_app.config["SECRET_KEY"], user), user.token_version
    if not g.via_token:
        session["tv"] = version
    return jsonify({"token": token}), 200
