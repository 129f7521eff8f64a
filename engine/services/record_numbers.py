"""Gapless record numbers per (city, type, year): the counter row is locked in the approving transaction."""
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from engine.db import RecordNumberSequence
from engine.domain.record_number import format_record_number


def next_serial(session: Session, *, city: str, type_letter: str, year: int) -> int:
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(RecordNumberSequence)
        .values(city=city, type_letter=type_letter, year=year, last_serial=0)
        .on_conflict_do_nothing()
    )
    stmt = select(RecordNumberSequence).where(
        RecordNumberSequence.city == city,
        RecordNumberSequence.type_letter == type_letter,
        RecordNumberSequence.year == year,
    ).execution_options(populate_existing=True)
    if dialect != "sqlite":
        stmt = stmt.with_for_update()
    seq = session.execute(stmt).scalar_one()
    seq.last_serial += 1
    session.flush()
    return seq.last_serial


def issue_record_number(session: Session, *, pattern: str, city: str, type_letter: str, year: int,
                        county: str = "") -> str:
    serial = next_serial(session, city=city, type_letter=type_letter, year=year)
    return format_record_number(pattern, city=city, type=type_letter, year=year, serial=serial,
                                county=county)
