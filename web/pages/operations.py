"""Admin operations page: failed background jobs, cases with an incident, dead outbox messages, the
backlogs, worker heartbeats and timer lateness; retry and resend."""
from flask import g, redirect, render_template, request, url_for

from engine.services import exchange
from engine.services import operations_overview as ops

from ..extensions import db
from ..security import kinds_allowed
from ..transactions import write
from . import bp

PER_PAGE = 20
LISTS = ("jobs_page", "incidents_page", "messages_page")


def _page(name: str) -> int:
    value = request.args.get(name, "1")
    return max(1, min(int(value), 100000)) if value.isdigit() else 1


def _pager_links(pages: dict):
    """Previous/next links of one list, keeping the page of the other two."""
    def links(name: str, total: int) -> dict:
        page, count = pages[name], max(1, (total + PER_PAGE - 1) // PER_PAGE)

        def to(number):
            return url_for("pages.operations", **(pages | {name: number}))
        return {"page": page, "count": count, "prev": to(page - 1) if page > 1 else None,
                "next": to(page + 1) if page < count else None}
    return links


@bp.get("/admin/operations")
@kinds_allowed("admin")
def operations():
    pages = {name: _page(name) for name in LISTS}
    summary = ops.overview(db.session, g.user)
    jobs, jobs_total = ops.jobs(db.session, g.user, status="failed", page=pages["jobs_page"], per_page=PER_PAGE)
    incidents, incidents_total = ops.incidents(db.session, g.user, page=pages["incidents_page"], per_page=PER_PAGE)
    messages, messages_total = ops.messages(db.session, g.user, status="dead", page=pages["messages_page"],
                                            per_page=PER_PAGE)
    return render_template(
        "admin/operations.html", summary=summary, pager_links=_pager_links(pages),
        exchange=exchange.delivery_summary(db.session),
        jobs=jobs, jobs_total=jobs_total, incidents=[row[0] for row in incidents], incidents_total=incidents_total,
        messages=[row[0] for row in messages], messages_total=messages_total,
        retried=request.args.get("retried"), resent=request.args.get("resent"))


@bp.post("/admin/operations/jobs/<int:job_id>/retry")
@kinds_allowed("admin")
def retry_job(job_id: int):
    with write() as s:
        ops.retry_job(s, g.user, job_id)
    return redirect(url_for("pages.operations", retried=job_id))


@bp.post("/admin/operations/messages/<int:message_id>/resend")
@kinds_allowed("admin")
def resend_message(message_id: int):
    with write() as s:
        ops.resend_message(s, g.user, message_id)
    return redirect(url_for("pages.operations", resent=message_id))
