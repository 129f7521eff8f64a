"""Request-side database helpers: reads use the request session, writes a unit of work."""
from engine.db.uow import unit_of_work

from .extensions import db


def write():
    """A write transaction on its own connection (BEGIN IMMEDIATE on SQLite, row locks on PostgreSQL)."""
    return unit_of_work(db.engine)
