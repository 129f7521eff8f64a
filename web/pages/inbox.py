"""The regulator's inbox (and any user's open tasks)."""
from flask import g, render_template, request

from engine.services import inbox as inbox_service
from workflows.catalog import load_catalog

from ..extensions import db
from ..security import login_required
from . import bp
from .paging import PER_PAGE, page_arg

@bp.get("/inbox")
@login_required
def inbox():
    process_key = request.args.get("process_key") or None
    if process_key not in load_catalog():
        process_key = None
    status = "completed" if request.args.get("status") == "completed" else "open"
    page_no = page_arg()
    page = inbox_service.list_inbox(db.session, user=g.user, process_key=process_key, status=status,
                                    page=page_no, per_page=PER_PAGE)
    return render_template("inbox/list.html", page=page, process_key=process_key, status=status,
                           processes=load_catalog())
