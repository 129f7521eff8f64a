"""JSON API v1 (OpenAPI document at /api/openapi.json, docs at /api/docs)."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")

from . import accounts, docs, drafts, exchange, notifications, ops, routes, studio  # noqa: E402,F401
