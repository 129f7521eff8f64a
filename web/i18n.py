"""Language choice: Simplified Chinese unless the user picked English (session or account)."""
from flask import Flask, g, request, session

from forms import current_locale

SUPPORTED = ("zh_CN", "en")


def select_locale() -> str:
    chosen = request.args.get("lang") if request else None
    if chosen in SUPPORTED:
        return chosen
    if session.get("lang") in SUPPORTED:
        return session["lang"]
    header = request.headers.get("Accept-Language", "") if request else ""
    if header.lower().startswith("en") and request.path.startswith("/api/"):
        return "en"
    user = g.get("user")
    if user is not None and user.locale in SUPPORTED:
        return user.locale
    return "zh_CN"


def init_app(app: Flask) -> None:
    @app.before_request
    def _set_form_locale():
        current_locale.set(select_locale())

    @app.context_processor
    def _locale_helpers():
        return {"current_locale": current_locale.get(), "is_zh": current_locale.get().startswith("zh")}
