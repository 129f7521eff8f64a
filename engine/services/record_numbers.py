"""Gapless record numbers per (city, type, year).

The counter row is incremented by one atomic upsert in the approving transaction: the row lock is
held until that transaction ends, so concurrent approvals queue on it, and a rollback gives the
number back — no gaps, no duplicates.
"""
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from engine.db import RecordNumberSequence
from engine.domain.record_number import format_record_number


def next_serial(session: Session, *, city: str, type_letter: str, year: int) -> int:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(RecordNumberSequence).values(city=city, type_letter=type_letter, year=year, last_serial=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=["city", "type_letter", "year"],
        set_={"last_serial": RecordNumberSequence.last_serial + 1},
    ).returning(RecordNumberSequence.last_serial)
    return session.execute(stmt).scalar_one()


def issue_record_number(session: Session, *, pattern: str, city: str, type_letter: str, year: int,
                        county: str = "") -> str:
    serial = next_serial(session, city=city, type_letter=type_letter, year=year)
    return format_record_number(pattern, city=city, type=type_letter, year=year, serial=serial,
                                county=county)
