"""WSGI entry point (gunicorn web.wsgi:app)."""
from . import create_app

app = create_app()

if app.config["BACKGROUND"] == "inprocess":
    from .background import start_background_loop

    start_background_loop(app)
