"""WSGI entry point (gunicorn web.wsgi:app)."""
from . import create_app
from .background import start_background

app = create_app()
start_background(app)
