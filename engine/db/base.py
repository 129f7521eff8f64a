"""Declarative base, portable column types and time helpers shared by every model."""
import json
from datetime import datetime, timezone

from sqlalchemy import JSON, MetaData
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSON everywhere, JSONB on PostgreSQL (indexable, compact, validated on write).
JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def like_escape(text: str) -> str:
    """Text matched literally by LIKE … ESCAPE '\\' (its %, _ and \\ are not wildcards)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class EncodedJSON(dict):
    """A dict that also carries its JSON text, so writing it to a JSON column encodes nothing twice.

    It is a complete dict, so an engine without `json_dumps` still stores it correctly.
    """

    def __init__(self, text: str):
        super().__init__(json.loads(text))
        self.text = text


def json_dumps(value) -> str:
    """The engines' JSON serializer: pre-encoded values pass through as they are."""
    return value.text if isinstance(value, EncodedJSON) else json.dumps(value)


def _dialect_insert(executor):
    """The INSERT construct with ON CONFLICT of the executor's database (PostgreSQL or SQLite)."""
    dialect = executor.dialect if hasattr(executor, "dialect") else executor.get_bind().dialect
    if dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def insert_ignore(executor, model, values: dict, *, unique: str = "key") -> int | None:
    """INSERT … ON CONFLICT (unique) DO NOTHING: the new row's primary key, or None when one with
    the same unique value exists (an idempotent write: emitting the same work twice adds it once).
    `executor` is a Session, or a Connection (inside a flush event)."""
    stmt = (_dialect_insert(executor)(model).values(**values).on_conflict_do_nothing(index_elements=[unique])
            .returning(*model.__table__.primary_key.columns))
    return executor.execute(stmt).scalar_one_or_none()


def insert_or_add(executor, model, values: dict, *, add: tuple[str, ...]) -> None:
    """INSERT … ON CONFLICT (primary key) DO UPDATE adding the `add` columns to the row already there:
    a counter row written by concurrent transactions without a read (they queue on that row only)."""
    table = model.__table__
    stmt = _dialect_insert(executor)(model).values(**values)
    stmt = stmt.on_conflict_do_update(index_elements=list(table.primary_key.columns),
                                      set_={name: table.c[name] + stmt.excluded[name] for name in add})
    executor.execute(stmt)
