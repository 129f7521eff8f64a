"""The regulator's inbox (and any user's open tasks)."""
from flask import g, render_template, request

from engine.services import inbox as inbox_service
from workflows.catalog import load_catalog

from ..extensions import db
from ..security import login_required
from . import bp

PER_PAGE = 20


@bp.get("/inbox")
@login_required
def inbox():
    process_key = request.args.get("process_key") or None
    if process_key not in load_catalog():
        process_key = None
    status = "completed" if request.args.get("status") == "completed" else "open"
    page_no = request.args.get("page", "1")
    page_no = max(1, min(int(page_no), 100000)) if page_no.isdigit() else 1
    page = inbox_service.list_inbox(db.session, user=g.user, process_key=process_key, status=status,
                                    page=page_no, per_page=PER_PAGE)
    return render_template("inbox/list.html", page=page, process_key=process_key, status=status,
                           processes=load_catalog())
