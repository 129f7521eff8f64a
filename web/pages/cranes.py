"""My cranes (enterprise) / cranes in my jurisdiction (regulator)."""
from flask import g, render_template

from engine.services import cranes as crane_service

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
    return render_template("cranes/detail.html", crane=crane,
                           cases=crane_service.crane_cases(db.session, user=g.user, crane=crane))
