"""The in-process engine keeps the gate's contract (shequn.gate.base)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from shequn.gate.base import PoolSpec, Refusal
from shequn.gate.local import LocalGate


def spec(units=3, cap=2, **overrides):
    now = timezone.now()
    fields = {
        "key": "flash:1:1",
        "units": units,
        "per_member_cap": cap,
        "opens_at": now - timedelta(minutes=1),
        "closes_at": now + timedelta(hours=1),
    }
    return PoolSpec(**{**fields, **overrides})


@pytest.fixture
def gate():
    return LocalGate()


def test_an_unknown_pool_admits_nobody_until_configured(gate):
    assert gate.attempt("flash:1:1", member_id=7).refusal == Refusal.NOT_READY
    assert gate.state("flash:1:1").ready is False
    gate.configure(spec())
    assert gate.attempt("flash:1:1", member_id=7).admitted


def test_units_and_caps_are_exact_and_claims_reach_the_stream_once(gate):
    gate.configure(spec(units=3, cap=2))
    first, second = gate.attempt("flash:1:1", 7), gate.attempt("flash:1:1", 7)
    assert (first.admitted, second.admitted) == (True, True)
    assert first.claim_id != second.claim_id
    assert gate.attempt("flash:1:1", 7).refusal == Refusal.OVER_CAP
    assert gate.attempt("flash:1:1", 8, quantity=2).refusal == Refusal.SOLD_OUT
    third = gate.attempt("flash:1:1", 8)
    assert (third.admitted, third.units_left) == (True, 0)
    assert gate.attempt("flash:1:1", 9).refusal == Refusal.SOLD_OUT

    claims = gate.read_claims("consumer-1", count=10)
    assert [(c.member_id, c.quantity) for c in claims] == [(7, 1), (7, 1), (8, 1)]
    assert gate.read_claims("consumer-1") == []
    # Not acknowledged: handed out again to a consumer that asks for stale deliveries.
    assert {c.claim_id for c in gate.pending_claims("consumer-2", idle_ms=0)} == {c.claim_id for c in claims}
    gate.ack(claims)
    assert gate.pending_claims("consumer-2", idle_ms=0) == []


def test_release_gives_units_back_and_lowers_the_holding(gate):
    gate.configure(spec(units=1, cap=1))
    assert gate.attempt("flash:1:1", 7).admitted
    gate.release("flash:1:1", 7, 1)
    state = gate.state("flash:1:1")
    assert (state.units_left, state.held_by_member) == (1, {})
    assert gate.attempt("flash:1:1", 7).admitted


def test_window_pause_priority_and_close(gate):
    now = timezone.now()
    gate.configure(spec(opens_at=now + timedelta(minutes=5)))
    assert gate.attempt("flash:1:1", 7).refusal == Refusal.NOT_OPEN
    gate.configure(spec(priority_until=now + timedelta(minutes=5)), priority_members=[7])
    assert gate.attempt("flash:1:1", 8).refusal == Refusal.PRIORITY_ONLY
    assert gate.attempt("flash:1:1", 7).admitted
    gate.add_priority_members("flash:1:1", [8])
    assert gate.attempt("flash:1:1", 8).admitted
    assert gate.attempt("flash:1:1", 9, now=now + timedelta(minutes=6)).admitted  # window over: everyone
    gate.set_paused("flash:1:1", True)
    assert gate.attempt("flash:1:1", 10).refusal == Refusal.PAUSED
    gate.set_paused("flash:1:1", False)
    gate.close("flash:1:1")
    assert gate.attempt("flash:1:1", 10).refusal == Refusal.CLOSED


def test_configure_rebuilds_from_the_owners_truth(gate):
    gate.configure(spec(units=5, cap=2))
    gate.attempt("flash:1:1", 7, quantity=2)
    # The owner's tables say: 1 unit left, member 7 holds 2 (e.g. after a restart).
    gate.configure(spec(units=1, cap=2), held_by_member={7: 2})
    assert gate.attempt("flash:1:1", 7).refusal == Refusal.OVER_CAP
    assert gate.attempt("flash:1:1", 8).admitted
    assert gate.attempt("flash:1:1", 9).refusal == Refusal.SOLD_OUT
