"""Who is calling (session cookie or bearer token), CSRF protection and security headers."""
import hmac
import secrets
from functools import wraps

from flask import Flask, abort, current_app, g, request, session

from engine.services.accounts import load_user, user_for_token

from .extensions import db

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def _load_user():
    g.user, g.via_token = None, False
    if db.engine.dialect.name == "postgresql":
        # A single-row read needs no transaction: skip the BEGIN/ROLLBACK round trips.
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        g.user = user_for_token(db.session, current_app.config["SECRET_KEY"], header[7:].strip())
        g.via_token = g.user is not None
    else:
        uid = session.get("uid")
        if uid is not None:
            user = load_user(db.session, uid)
            if user is not None and user.is_active and session.get("tv") == user.token_version:
                g.user = user
            else:
                session.clear()
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
    app.after_request(_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token


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
