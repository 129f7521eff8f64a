"""Operations API (system administrators): backlogs, heartbeats and lateness; failed jobs, incidents
and dead messages; retry and resend. The admin role is checked in engine/services/operations_overview.py."""
from flask import g, jsonify

from engine.services import audit_chain, audit_schedule
from engine.services import operations_overview as ops
from forms.api import ListQuery

from ..extensions import db
from ..security import login_required
from ..transactions import write
from . import bp
from .routes import _query


def _iso(value):
    return value.isoformat() if value is not None else None


def _job_json(job, business_key=None) -> dict:
    return {"id": job.id, "kind": job.kind, "key": job.key, "status": job.status, "case_id": job.instance_id,
            "business_key": business_key, "due_at": _iso(job.due_at), "attempts": job.attempts,
            "fired_at": _iso(job.fired_at), "lateness_ms": job.lateness_ms, "last_error": job.last_error}


def _message_json(msg) -> dict:
    return {"id": msg.id, "topic": msg.topic, "key": msg.key, "status": msg.status, "attempts": msg.attempts,
            "available_at": _iso(msg.available_at), "created_at": _iso(msg.created_at), "last_error": msg.last_error}


@bp.get("/v1/ops/overview")
@login_required
def ops_overview():
    summary = ops.overview(db.session, g.user)
    late = summary["lateness"]
    return jsonify({
        "jobs": summary["jobs"], "messages": summary["messages"],
        "lateness_last_hour": {"count": late.count, "p50_ms": late.p50_ms, "p95_ms": late.p95_ms,
                               "max_ms": late.max_ms},
        "heartbeats": [{"name": h["name"], "beat_at": _iso(h["beat_at"]), "age_seconds": h["age_seconds"]}
                       for h in summary["heartbeats"]]})


@bp.get("/v1/ops/jobs")
@login_required
def ops_jobs():
    ops.require_admin(g.user)  # before the query is checked: others learn nothing from a 422
    q = _query(ListQuery)
    rows, total = ops.jobs(db.session, g.user, status=q["status"] or "failed", page=q["page"], per_page=q["per_page"])
    return jsonify({"items": [_job_json(job, key) for job, key in rows], "total": total, "page": q["page"]})


@bp.post("/v1/ops/jobs/<int:job_id>/retry")
@login_required
def ops_retry_job(job_id: int):
    with write() as s:
        payload = _job_json(ops.retry_job(s, g.user, job_id))
    return jsonify(payload)


@bp.get("/v1/ops/incidents")
@login_required
def ops_incidents():
    ops.require_admin(g.user)  # before the query is checked: others learn nothing from a 422
    q = _query(ListQuery)
    rows, total = ops.incidents(db.session, g.user, page=q["page"], per_page=q["per_page"])
    return jsonify({"items": [{"id": i.id, "business_key": i.business_key, "process_key": i.process_key,
                               "status": i.status, "error": i.error} for (i,) in rows],
                    "total": total, "page": q["page"]})


@bp.get("/v1/ops/messages")
@login_required
def ops_messages():
    ops.require_admin(g.user)  # before the query is checked: others learn nothing from a 422
    q = _query(ListQuery)
    rows, total = ops.messages(db.session, g.user, status=q["status"] or "dead", page=q["page"],
                               per_page=q["per_page"])
    return jsonify({"items": [_message_json(m) for (m,) in rows], "total": total, "page": q["page"]})


@bp.post("/v1/ops/messages/<int:message_id>/resend")
@login_required
def ops_resend_message(message_id: int):
    with write() as s:
        payload = _message_json(ops.resend_message(s, g.user, message_id))
    return jsonify(payload)


def _verification_json(run) -> dict | None:
    if run is None:
        return None
    return {"id": run.id, "started_at": _iso(run.started_at), "seconds": run.seconds, "scope": run.scope,
            "chains": run.chains, "events": run.events, "ok": not run.broken, "broken": run.broken,
            "run_by": run.run_by_id}


@bp.get("/v1/ops/audit-verification")
@login_required
def ops_audit_verification():
    ops.require_admin(g.user)
    return jsonify({**audit_chain.totals(db.session), "pending": audit_schedule.pending(db.session),
                    "last_verification": _verification_json(audit_chain.last_run(db.session))})


@bp.post("/v1/ops/audit-verification")
@login_required
def ops_run_audit_verification():
    ops.require_admin(g.user)
    with write() as s:
        queued = audit_schedule.request(s, actor=g.user)
    return jsonify({"queued": queued, "pending": True}), 202
