"""Browser login and logout, and the language switch."""
from urllib.parse import urlparse

from flask import Blueprint, g, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from marshmallow import ValidationError

from engine.domain.regions import all_regions
from engine.errors import InvalidInput
from engine.services.accounts import authenticate
from engine.services.enterprise_filing import register_enterprise
from forms.enterprise import SignUpSchema

from ..transactions import write
from ..i18n import SUPPORTED
from ..security import end_session, login_required, session_remaining, start_session

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    if not target:
        return url_for("pages.home")
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("pages.home")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        username = request.form.get("username", "")[:64]
        password = request.form.get("password", "")[:256]
        with write() as s:
            user = authenticate(s, username, password)
            found = (user.id, user.token_version) if user else None
        if found:
            start_session(*found)
            return redirect(_safe_next(request.args.get("next")))
        error = _("用户名或密码错误，或账户已被锁定。")
    elif session.pop("expired", None):
        error = _("会话已过期，请重新登录")
    return render_template("login.html", error=error), (401 if error and request.method == "POST" else 200)


@bp.post("/logout")
def logout():
    end_session()
    return redirect(url_for("auth.login"))


@bp.get("/session/keep-alive")
@login_required
def session_keepalive():
    """Counts as activity (see web/security.py): the idle timer starts again."""
    return jsonify({"remaining": session_remaining()})


@bp.get("/session/status")
@login_required
def session_status():
    """Does not count as activity: lets a page learn whether another tab kept the session alive."""
    return jsonify({"remaining": session_remaining()})


@bp.get("/lang/<code>")
def switch_language(code: str):
    if code in SUPPORTED:
        session["lang"] = code
    referrer = request.referrer or ""
    target = urlparse(referrer)
    back = target.path if target.netloc in ("", request.host) and target.path else url_for("pages.home")
    if target.query:
        back += "?" + target.query
    public = target.path == "/verify" or target.path.startswith("/verify/")  # the verification portal
    return redirect(_safe_next(back) if g.get("user") or public else url_for("auth.login"))


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Enterprise self-service sign-up; the enterprise then files itself for review."""
    errors, data = {}, {}
    if request.method == "POST":
        data = {k: request.form.get(k, "") for k in SignUpSchema().fields}
        try:
            cleaned = SignUpSchema().load(data)
            with write() as s:
                user = register_enterprise(s, data=cleaned)
                found = (user.id, user.token_version)
        except ValidationError as exc:
            errors = exc.messages
        except InvalidInput as exc:
            errors = exc.errors
        else:
            start_session(*found)
            return redirect(url_for("pages.my_cases", registered=1))
    regions = [r for r in all_regions() if r.level != "province"]
    return render_template("register.html", errors=errors, data=data, regions=regions), (422 if errors else 200)
