"""Data exchange: the pull API for local systems; the push configuration of this process."""
from flask import g, jsonify

from engine.services import exchange
from forms.exchange import ChangesQuery

from ..extensions import db
from ..security import login_required
from . import bp
from .routes import _query


@bp.record_once
def _configure_push(state) -> None:
    # Every process that creates the app (web, Celery workers, beat) pushes with the same settings.
    config = state.app.config
    exchange.configure(exchange.PushConfig(url=config.get("EXCHANGE_PUSH_URL", ""),
                                           secret=config.get("EXCHANGE_SECRET", ""),
                                           timeout=float(config.get("EXCHANGE_TIMEOUT_SECONDS", 10))))


@bp.get("/v1/exchange/changes")
@login_required
def exchange_changes():
    exchange.check_reader(g.user)
    query = _query(ChangesQuery)
    return jsonify(exchange.list_changes(db.session, user=g.user, after=query["after"], limit=query["limit"]))
