"""Liveness, readiness and metrics endpoints for load balancers, orchestrators and Prometheus.

No login, no session, no CSRF; the answers name checks and figures, never addresses or secrets.
"""
import hmac
import ipaddress
import time

import redis
from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import text
from sqlalchemy.orm import Session

from engine.db import utcnow
from engine.services import operations_overview

from . import metrics
from .extensions import db

bp = Blueprint("health", __name__)
# A background process sweeps every second; a heartbeat older than this means none is running.
HEARTBEAT_MAX_AGE_SECONDS = 15.0

_redis_clients: dict[str, redis.Redis] = {}


def redis_client(url: str) -> redis.Redis:
    if url not in _redis_clients:
        _redis_clients[url] = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
    return _redis_clients[url]


@bp.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


def _timed(check) -> dict:
    started = time.perf_counter()
    try:
        result = check() or {}
        status = result.pop("status", "ok")
    except Exception as exc:  # the name of the failure only: driver messages may carry addresses
        result, status = {"error": type(exc).__name__}, "fail"
    return {"status": status, "latency_ms": round((time.perf_counter() - started) * 1000, 2), **result}


def _database():
    with db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def _redis():
    redis_client(current_app.config["REDIS_URL"]).ping()


def _heartbeat():
    with Session(db.engine) as session:
        newest = operations_overview.newest_heartbeat(session)
    if newest is None:
        return {"status": "fail", "age_seconds": None}
    age = (utcnow() - newest).total_seconds()
    limit = current_app.config.get("HEARTBEAT_MAX_AGE_SECONDS", HEARTBEAT_MAX_AGE_SECONDS)
    return {"status": "ok" if age <= limit else "fail", "age_seconds": round(age, 1)}


@bp.get("/readyz")
def readyz():
    checks = {"database": _timed(_database)}
    if current_app.config["REDIS_URL"]:
        checks["redis"] = _timed(_redis)
    if current_app.config["BACKGROUND"] != "off":
        checks["heartbeat"] = _timed(_heartbeat)
    failing = [name for name, check in checks.items() if check["status"] != "ok"]
    body = {"status": "fail" if failing else "ok", "checks": checks}
    if failing:
        body["failing"] = failing
    return jsonify(body), 503 if failing else 200


def _metrics_allowed() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip().encode(), token.encode()):
        return True
    # A request relayed by a reverse proxy on this host arrives from loopback too: it is not local.
    if request.headers.get("X-Forwarded-For") or request.headers.get("Forwarded"):
        return False
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


@bp.get("/metrics")
def metrics_page():
    if not _metrics_allowed():
        return Response("forbidden\n", status=403, mimetype="text/plain")
    url = current_app.config["REDIS_URL"]
    body, content_type = metrics.exposition(db.engine, redis_client(url) if url else None)
    return Response(body, content_type=content_type)
