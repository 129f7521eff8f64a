"""Who is calling (session cookie or bearer token), CSRF protection and security headers."""
import hmac
import secrets
import time
from functools import wraps

from flask import Flask, abort, current_app, g, redirect, request, session, url_for

from engine.errors import NotPermitted
from engine.services.accounts import load_user, user_for_token
from forms.messages import t

from .extensions import db

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def start_session(uid: int, token_version: int) -> None:
    """A fresh browser session after login (keeps only the chosen language)."""
    lang = session.get("lang")
    session.clear()
    session.permanent = True
    now = int(time.time())
    session.update(uid=uid, tv=token_version, since=now, seen=now)
    if lang:
        session["lang"] = lang
    csrf_token()


def end_session(*, expired: bool = False) -> None:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    if expired:
        session["expired"] = 1  # the login page says why


def session_remaining(now: float | None = None) -> int:
    """Seconds until the browser session ends by idleness or by its absolute lifetime (0: ended)."""
    seen, since = session.get("seen"), session.get("since")
    if not isinstance(seen, int) or not isinstance(since, int):
        return 0
    now = time.time() if now is None else now
    idle = current_app.config["SESSION_IDLE_MINUTES"] * 60 - (now - seen)
    absolute = current_app.config["SESSION_MAX_HOURS"] * 3600 - (now - since)
    return max(0, int(min(idle, absolute)))


# Requests that do not count as activity: static files and the expiry script's status check.
_PASSIVE_ENDPOINTS = ("static", "auth.session_status")


def _session_user():
    uid = session.get("uid")
    if uid is None:
        return None
    if session_remaining() <= 0:
        end_session(expired=True)
        return None
    user = load_user(db.session, uid)
    if user is None or not user.is_active or session.get("tv") != user.token_version:
        session.clear()
        return None
    if request.endpoint not in _PASSIVE_ENDPOINTS:
        session["seen"] = int(time.time())
    return user


# Health, readiness and metrics: answered without looking at sessions or tokens. The public
# verification portal (web/pages/verification.py) likewise never loads the caller's account; its
# upload form still carries the session's CSRF token.
_SESSIONLESS_ENDPOINTS = ("health.healthz", "health.readyz", "health.metrics_page", "verify.home", "verify.upload",
                          "verify.certificate", "verify.public_key")


def _load_user():
    g.user, g.via_token = None, False
    if request.endpoint in _SESSIONLESS_ENDPOINTS:
        return
    if db.engine.dialect.name == "postgresql":
        # A single-row read needs no transaction: skip the BEGIN/ROLLBACK round trips.
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        g.user = user_for_token(db.session, current_app.config["SECRET_KEY"], header[7:].strip())
        g.via_token = g.user is not None
    else:
        g.user = _session_user()
    # Keep the loaded user (with enterprise, roles, region) but end the read transaction that
    # loaded it, so a write transaction in this request does not run beside an idle open one.
    db.session.expunge_all()
    db.session.rollback()


def _check_csrf():
    # Bearer-token calls carry no ambient credentials, so CSRF does not apply to them.
    if request.method in SAFE_METHODS or g.get("via_token"):
        return
    if request.endpoint in ("api.create_session", "api.register_enterprise"):
        return
    # An anonymous API call has no ambient credentials either; login_required answers it with 401.
    if request.path.startswith("/api/") and g.get("user") is None:
        return
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token", "")
    expected = session.get("csrf")
    if not expected or not hmac.compare_digest(sent, expected):
        abort(400, description="csrf")


# What a user whose password was reset may still do before changing it.
_BEFORE_PASSWORD_CHANGE = {"static", "auth.login", "auth.logout", "auth.switch_language", "auth.session_status",
                           "auth.session_keepalive", "pages.change_password", "api.me", "api.change_my_password",
                           "api.create_session", "api.openapi_json", "api.docs_page"}


def _require_password_change():
    user = g.get("user")
    if user is None or not user.must_change_password or request.endpoint in _BEFORE_PASSWORD_CHANGE:
        return None
    if request.path.startswith("/api/"):
        raise NotPermitted(t("password_change_required"))
    return redirect(url_for("pages.change_password"))


def _headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; frame-ancestors 'none'; form-action 'self'",
    )
    if request.endpoint and not request.endpoint.startswith("static"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    app.before_request(_load_user)
    app.before_request(_check_csrf)
    app.before_request(_require_password_change)
    app.after_request(_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["session_remaining"] = session_remaining


def login_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if g.get("user") is None:
            abort(401)
        return view(*args, **kwargs)

    return wrapper


def kinds_allowed(*kinds):
    """Restrict a page to user kinds (enterprise / regulator / admin); scope is checked by services."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if g.get("user") is None:
                abort(401)
            if g.user.kind not in kinds:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate
