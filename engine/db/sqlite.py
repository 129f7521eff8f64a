"""SQLite tuning for the embedded default: WAL, foreign keys and explicit BEGIN control.

pysqlite's own transaction handling cannot issue BEGIN IMMEDIATE, which is how a transition
takes the write lock up front on SQLite (the counterpart of SELECT … FOR UPDATE). So the driver is
put in autocommit mode and SQLAlchemy's "begin" event issues BEGIN itself.
"""
import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine

IMMEDIATE = {"sqlite_begin": "IMMEDIATE"}


@event.listens_for(Engine, "connect")
def _on_connect(dbapi_connection, _record):
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _on_begin(conn):
    if conn.dialect.name != "sqlite":
        return
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")
