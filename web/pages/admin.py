"""Admin: the process list of the studio — deployed versions with their cases, and what to do next."""
from flask import g, render_template

from engine.services import definitions as definition_service

from ..extensions import db
from ..security import kinds_allowed
from . import bp


@bp.get("/admin/definitions")
@kinds_allowed("admin")
def definitions():
    processes = definition_service.process_overview(db.session, g.user)
    return render_template("admin/definitions.html", processes=processes)
