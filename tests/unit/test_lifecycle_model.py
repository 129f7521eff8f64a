"""The crane record can hold every lifecycle state."""
from engine.db import Crane
from engine.db.cranes import CRANE_STATUSES
from engine.domain.lifecycle import STATE_LABELS


def test_every_lifecycle_state_is_a_crane_status_and_fits_the_column():
    assert set(STATE_LABELS) == set(CRANE_STATUSES)
    width = Crane.__table__.c.status.type.length
    assert max(len(state) for state in STATE_LABELS) <= width
