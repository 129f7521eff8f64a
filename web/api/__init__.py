"""JSON API v1 (OpenAPI document at /api/openapi.json, docs at /api/docs)."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")

from . import accounts, certificates, docs, drafts, exchange, notifications, ops, report_submission, routes, statistics, studio, usage_report  # noqa: E402,F401
