"""Admin audit page: the tamper-evident audit chains, the last verification and each broken chain's
first broken link; a verification queued in the background."""
from flask import g, redirect, render_template, url_for
from sqlalchemy import select

from engine.db import ProcessInstance, User
from engine.services import audit_chain, audit_schedule

from ..extensions import db
from ..security import kinds_allowed
from ..transactions import write
from . import bp


@bp.get("/admin/audit")
@kinds_allowed("admin")
def audit():
    last = audit_chain.last_run(db.session)
    broken = last.broken if last is not None else []
    case_ids = {b["instance_id"] for b in broken if b.get("instance_id") is not None}
    business_keys = {}
    if case_ids:
        business_keys = dict(db.session.execute(select(ProcessInstance.id, ProcessInstance.business_key)
                                                .where(ProcessInstance.id.in_(case_ids))).all())
    run_by = db.session.get(User, last.run_by_id) if last is not None and last.run_by_id else None
    return render_template("admin/audit.html", totals=audit_chain.totals(db.session), last=last, broken=broken,
                           business_keys=business_keys, run_by=run_by, reasons=audit_chain.REASONS,
                           pending=audit_schedule.pending(db.session))


@bp.post("/admin/audit/verify")
@kinds_allowed("admin")
def audit_verify():
    with write() as s:
        audit_schedule.request(s, actor=g.user)  # queued once: a second click while it runs adds nothing
    return redirect(url_for("pages.audit"))
