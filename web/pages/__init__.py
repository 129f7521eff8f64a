"""Browser pages: enterprise portal, regulator inbox, case and crane pages."""
from flask import Blueprint

bp = Blueprint("pages", __name__)

from . import accounts, admin, audit, cases, cranes, inbox, notifications, operations, personnel, projects, statistics, report_submission, studio, usage_report  # noqa: E402,F401
