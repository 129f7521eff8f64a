"""My cranes (enterprise) / cranes in my jurisdiction (regulator)."""
from datetime import datetime

from flask import g, render_template

from engine.services import archive as archive_service
from engine.services import cranes as crane_service
from engine.services.attachments import can_read_attachment

from ..extensions import db
from ..security import login_required
from . import bp
from .paging import PER_PAGE, page_arg

@bp.get("/cranes")
@login_required
def cranes():
    page = page_arg()
    rows, total = crane_service.list_cranes(db.session, user=g.user, page=page, per_page=PER_PAGE)
    return render_template("cranes/list.html", rows=rows, total=total, page=page, per_page=PER_PAGE)


@bp.get("/cranes/<int:crane_id>")
@login_required
def crane(crane_id: int):
    crane = crane_service.get_crane(db.session, user=g.user, crane_id=crane_id)
    archive = archive_service.crane_archive(db.session, crane, viewer=g.user)
    timeline = [{**entry, "when": datetime.fromisoformat(entry["at"])} for entry in archive.timeline]
    # Files are linked where the user may open them on their own; the archive ZIP holds them all.
    readable = {f.attachment.id for f in archive.files if can_read_attachment(db.session, g.user, f.attachment)}
    return render_template("cranes/detail.html", crane=crane, timeline=timeline, readable=readable,
                           cases=crane_service.crane_cases(db.session, user=g.user, crane=crane))
