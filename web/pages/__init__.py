"""Browser pages: enterprise portal, regulator inbox, case and crane pages."""
from flask import Blueprint

bp = Blueprint("pages", __name__)

from . import admin, cases, cranes, inbox, personnel, projects  # noqa: E402,F401
