"""Unit of work: one transaction that commits on success and rolls back on any error."""
from contextlib import contextmanager
from typing import Callable, Iterator

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from .sqlite import IMMEDIATE

_after_commit_hooks = "craneflow_after_commit"


@contextmanager
def unit_of_work(bind: Engine) -> Iterator[Session]:
    """A write transaction. On SQLite it starts with BEGIN IMMEDIATE (the database write lock)."""
    session = Session(bind=bind, expire_on_commit=False, autoflush=True)
    try:
        if bind.dialect.name == "sqlite":
            session.connection(execution_options=IMMEDIATE)
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
    for hook in session.info.get(_after_commit_hooks, []):
        hook()


def after_commit(session: Session, hook: Callable[[], None]) -> None:
    """Run `hook` only once the unit of work has committed (e.g. to enqueue background work)."""
    session.info.setdefault(_after_commit_hooks, []).append(hook)
