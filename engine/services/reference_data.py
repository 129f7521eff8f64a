"""Reference data every installation needs: the administrative divisions."""
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import Region
from engine.domain.regions import all_regions


def load_regions(session: Session) -> int:
    """Insert missing regions (parents first); returns how many were added."""
    known = set(session.scalars(select(Region.code)))
    added = 0
    for r in sorted(all_regions(), key=lambda r: ("province", "city", "county").index(r.level)):
        if r.code not in known:
            session.add(Region(code=r.code, name=r.name, name_en=r.name_en, level=r.level,
                               parent_code=r.parent, plate=r.plate))
            added += 1
    session.flush()
    return added
