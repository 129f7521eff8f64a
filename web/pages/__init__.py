"""Browser pages: enterprise portal, regulator inbox, case and crane pages."""
from flask import Blueprint

bp = Blueprint("pages", __name__)

from . import accounts, admin, cases, cranes, inbox, notifications, operations, personnel, projects, studio  # noqa: E402,F401
