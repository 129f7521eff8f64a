"""The transactional outbox: written with the transition, handed over only after commit, run
once per key, retried with backoff, dead after its attempts, sent again by an administrator."""
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from engine.db import OutboxMessage, utcnow
from engine.db.uow import unit_of_work
from engine.services import outbox

DELIVERED: list[str] = []
FAILURES = {"left": 0, "permanent": False}


@outbox.topic("test.deliver", max_attempts=3, backoff_base=10.0)
def _deliver(bind, message):
    if FAILURES["permanent"]:
        raise outbox.Permanent("the receiver refuses this record")
    if FAILURES["left"] > 0:
        FAILURES["left"] -= 1
        raise ConnectionError("receiver unreachable")
    DELIVERED.append(message.key)


@pytest.fixture(autouse=True)
def _reset():
    DELIVERED.clear()
    FAILURES.update(left=0, permanent=False)


def _emit(engine, key, **payload):
    with unit_of_work(engine) as s:
        return outbox.emit(s, "test.deliver", key, payload)


def _message(engine, key) -> OutboxMessage:
    with Session(engine) as s:
        return s.scalar(select(OutboxMessage).where(OutboxMessage.key == key))


def test_the_same_key_is_emitted_once_and_delivered_once(world):
    assert _emit(world.engine, "k1", n=1) is not None
    assert _emit(world.engine, "k1", n=2) is None
    assert outbox.run_ready(world.engine) == {"done": 1}
    assert outbox.run_ready(world.engine) == {}
    assert DELIVERED == ["k1"]
    msg = _message(world.engine, "k1")
    assert msg.status == "done" and msg.payload == {"n": 1} and msg.attempts == 1


def test_handed_over_after_commit_and_never_after_a_rollback(world):
    handed = []
    outbox.set_dispatcher(handed.extend)
    with unit_of_work(world.engine) as s:
        first = outbox.emit(s, "test.deliver", "k-commit", {})
        second = outbox.emit(s, "test.deliver", "k-commit-2", {})
        assert handed == []  # not before the commit
    assert handed == [first, second]
    with pytest.raises(RuntimeError), unit_of_work(world.engine) as s:
        outbox.emit(s, "test.deliver", "k-rolled-back", {})
        raise RuntimeError("the transition failed")
    assert handed == [first, second] and _message(world.engine, "k-rolled-back") is None


def test_a_lost_hand_over_is_found_by_the_sweep(world):
    def broker_down(ids):
        raise ConnectionError("redis is away")

    outbox.set_dispatcher(broker_down)
    _emit(world.engine, "k-lost")  # committed; the hand-over failed and was only logged
    assert outbox.claim_ready(world.engine) == []  # just emitted: its hand-over may be under way
    later = utcnow() + outbox.HANDOVER_GRACE + timedelta(seconds=1)
    (message_id,) = outbox.claim_ready(world.engine, now=later)
    assert outbox.dispatch(world.engine, message_id) == "done" and DELIVERED == ["k-lost"]


def test_failures_back_off_exponentially_then_the_message_is_dead(world):
    FAILURES["left"] = 10
    message_id = _emit(world.engine, "k-down")
    assert outbox.dispatch(world.engine, message_id) == "retry"
    first = _message(world.engine, "k-down")
    assert first.status == "pending" and first.attempts == 1 and "unreachable" in first.last_error
    wait = (first.available_at - utcnow()).total_seconds()
    assert 7 < wait <= 12  # 10 s ± 20 %
    assert outbox.dispatch(world.engine, message_id) == "skipped"  # not before its time
    assert outbox.run_ready(world.engine, now=utcnow() + timedelta(seconds=13)) == {"retry": 1}
    second = _message(world.engine, "k-down")
    assert 15 < (second.available_at - utcnow()).total_seconds() <= 24  # doubled
    assert outbox.run_ready(world.engine, now=utcnow() + timedelta(seconds=25)) == {"dead": 1}
    assert _message(world.engine, "k-down").status == "dead" and DELIVERED == []

    FAILURES["left"] = 0
    with unit_of_work(world.engine) as s:
        outbox.resend(s, message_id)
    assert outbox.run_ready(world.engine) == {"done": 1} and DELIVERED == ["k-down"]


def test_a_permanent_failure_is_dead_at_once(world):
    FAILURES["permanent"] = True
    message_id = _emit(world.engine, "k-refused")
    assert outbox.dispatch(world.engine, message_id) == "dead"
    assert "refuses" in _message(world.engine, "k-refused").last_error


def test_a_dispatcher_that_died_mid_way_is_replaced_when_its_lease_ends(world):
    message_id = _emit(world.engine, "k-crash")
    with unit_of_work(world.engine) as s:  # what a dispatcher killed after leasing leaves behind
        s.execute(text("UPDATE outbox_message SET status = 'running', attempts = 1 WHERE id = :id"),
                  {"id": message_id})
        s.execute(text("UPDATE outbox_message SET available_at = :t WHERE id = :id"),
                  {"id": message_id, "t": utcnow() + outbox.LEASE})
    assert outbox.run_ready(world.engine) == {}
    assert outbox.run_ready(world.engine, now=utcnow() + outbox.LEASE + timedelta(seconds=1)) == {"done": 1}
    msg = _message(world.engine, "k-crash")
    assert msg.status == "done" and msg.attempts == 2 and DELIVERED == ["k-crash"]


def test_resend_only_for_dead_messages(world):
    from engine.errors import Conflict

    message_id = _emit(world.engine, "k-alive")
    with pytest.raises(Conflict), unit_of_work(world.engine) as s:
        outbox.resend(s, message_id)
