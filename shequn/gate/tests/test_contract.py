"""Both engines keep the gate's contract (shequn.gate.base): the same tests, LocalGate and RedisGate."""

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from shequn.gate.base import Claim, RateLimits, Refusal
from shequn.gate.redis import RedisGate

from .conftest import spec

POOL = "flash:1:1"


def test_an_unknown_pool_admits_nobody_until_configured(gate):
    assert gate.attempt(POOL, member_id=7).refusal == Refusal.NOT_READY
    assert gate.state(POOL).ready is False
    # Operations on an unknown pool do not make it look configured.
    gate.set_paused(POOL, False)
    gate.close(POOL)
    gate.add_priority_members(POOL, [7])
    assert gate.release(POOL, 7, 1) is False  # nothing to give back to: the caller keeps it pending
    assert gate.state(POOL).ready is False
    assert gate.attempt(POOL, member_id=7).refusal == Refusal.NOT_READY
    gate.configure(spec())
    assert gate.attempt(POOL, member_id=7).admitted
    assert gate.state(POOL).ready is True


def test_units_and_caps_are_exact_and_claims_reach_the_stream_once(gate):
    gate.configure(spec(units=3, cap=2))
    first, second = gate.attempt(POOL, 7), gate.attempt(POOL, 7)
    assert (first.admitted, second.admitted) == (True, True)
    assert (first.units_left, second.units_left) == (2, 1)
    assert first.claim_id != second.claim_id
    assert gate.attempt(POOL, 7).refusal == Refusal.OVER_CAP
    sold_out = gate.attempt(POOL, 8, quantity=2)
    assert (sold_out.refusal, sold_out.units_left) == (Refusal.SOLD_OUT, 1)
    third = gate.attempt(POOL, 8)
    assert (third.admitted, third.units_left) == (True, 0)
    assert gate.attempt(POOL, 9).refusal == Refusal.SOLD_OUT

    claims = gate.read_claims("flash", "consumer-1", count=10)
    assert [(c.claim_id, c.pool_key, c.member_id, c.quantity) for c in claims] == [
        (first.claim_id, POOL, 7, 1),
        (second.claim_id, POOL, 7, 1),
        (third.claim_id, POOL, 8, 1),
    ]
    assert all(abs(c.admitted_at - timezone.now()) < timedelta(minutes=1) for c in claims)
    assert gate.read_claims("flash", "consumer-1") == []
    assert gate.read_claims("flash", "consumer-2") == []  # one group: a claim is delivered to one consumer
    state = gate.state(POOL)
    assert (state.units_left, state.admitted_units, dict(state.held_by_member)) == (0, 3, {7: 2, 8: 1})


def test_the_stream_delivers_each_claim_once_across_consumers(gate):
    gate.configure(spec(units=10, cap=10))
    ids = {gate.attempt(POOL, member).claim_id for member in range(10)}
    assert len(ids) == 10
    first = gate.read_claims("flash", "consumer-1", count=4)
    second = gate.read_claims("flash", "consumer-2", count=100)
    assert (len(first), len(second)) == (4, 6)
    assert {c.claim_id for c in first} | {c.claim_id for c in second} == ids
    assert gate.read_claims("flash", "consumer-3") == []


def test_unacknowledged_claims_are_redelivered_when_stale_and_ack_ends_them(gate):
    gate.configure(spec(units=3, cap=3))
    for _ in range(3):
        gate.attempt(POOL, 7)
    claims = gate.read_claims("flash", "consumer-1", count=10)
    assert len(claims) == 3
    assert gate.pending_claims("flash", "consumer-2", idle_ms=60_000) == []  # not stale yet
    stale = gate.pending_claims("flash", "consumer-2", idle_ms=0)
    assert [c.claim_id for c in stale] == [c.claim_id for c in claims]
    assert [c.claim_id for c in gate.pending_claims("flash", "consumer-2", idle_ms=0, count=2)] == [
        c.claim_id for c in claims[:2]
    ]
    gate.ack(stale[:2])
    assert [c.claim_id for c in gate.pending_claims("flash", "consumer-3", idle_ms=0)] == [claims[2].claim_id]
    gate.ack(claims[2:])
    assert gate.pending_claims("flash", "consumer-3", idle_ms=0) == []
    assert gate.read_claims("flash", "consumer-1") == []


def test_unacknowledged_lists_every_claim_not_acknowledged_read_or_not(gate):
    gate.configure(spec(units=3, cap=3))
    admitted = [gate.attempt(POOL, 7).claim_id for _ in range(3)]
    assert [c.claim_id for c in gate.unacknowledged("flash")] == admitted  # none read yet
    read = gate.read_claims("flash", "consumer-1", count=2)
    assert sorted(c.claim_id for c in gate.unacknowledged("flash")) == sorted(admitted)  # two read, one not
    gate.ack(read[:1])
    assert sorted(c.claim_id for c in gate.unacknowledged("flash")) == sorted(admitted[1:])
    assert {(c.pool_key, c.member_id, c.quantity) for c in gate.unacknowledged("flash")} == {(POOL, 7, 1)}
    assert gate.unacknowledged("jielong") == []  # another owner's stream


def test_a_blocking_read_returns_the_claim_admitted_while_it_waits(gate):
    gate.configure(spec())
    read: list[Claim] = []
    reader = threading.Thread(target=lambda: read.extend(gate.read_claims("flash", "consumer-1", block_ms=10_000)))
    reader.start()
    admission = gate.attempt(POOL, 7)
    reader.join()
    assert [c.claim_id for c in read] == [admission.claim_id]


def test_release_gives_units_back_and_lowers_the_holding(gate):
    gate.configure(spec(units=2, cap=2))
    assert gate.attempt(POOL, 7, quantity=2).admitted
    assert gate.release(POOL, 7, 1) is True
    state = gate.state(POOL)
    assert (state.units_left, dict(state.held_by_member)) == (1, {7: 1})
    gate.release(POOL, 7, 1)
    state = gate.state(POOL)
    assert (state.units_left, dict(state.held_by_member)) == (2, {})
    assert gate.attempt(POOL, 7, quantity=2).admitted


def test_window_pause_priority_and_close(gate):
    now = timezone.now()
    gate.configure(spec(opens_at=now + timedelta(minutes=5)))
    assert gate.attempt(POOL, 7).refusal == Refusal.NOT_OPEN
    assert gate.attempt(POOL, 7, now=now + timedelta(minutes=5)).admitted  # opens_at itself is open
    gate.configure(spec(closes_at=now + timedelta(minutes=5)))
    assert gate.attempt(POOL, 7, now=now + timedelta(minutes=5)).refusal == Refusal.CLOSED
    gate.configure(spec(priority_until=now + timedelta(minutes=5)), priority_members=[7])
    assert gate.attempt(POOL, 8).refusal == Refusal.PRIORITY_ONLY
    assert gate.attempt(POOL, 7).admitted
    gate.add_priority_members(POOL, [8])
    assert gate.attempt(POOL, 8).admitted
    assert gate.attempt(POOL, 9, now=now + timedelta(minutes=6)).admitted  # window over: everyone
    gate.set_paused(POOL, True)
    assert gate.state(POOL).paused is True
    assert gate.attempt(POOL, 10).refusal == Refusal.PAUSED
    gate.set_paused(POOL, False)
    gate.close(POOL)
    assert gate.attempt(POOL, 10).refusal == Refusal.CLOSED
    gate.configure(spec(paused=True))
    assert gate.attempt(POOL, 10).refusal == Refusal.PAUSED


def test_configure_rebuilds_from_the_owners_truth(gate):
    gate.configure(spec(units=5, cap=2, priority_until=timezone.now() + timedelta(hours=1)), priority_members=[7, 9])
    gate.attempt(POOL, 7, quantity=2)
    gate.close(POOL)
    # The owner's tables say: 1 unit left, member 7 holds 2 (e.g. after a restart); nobody has priority.
    gate.configure(spec(units=1, cap=2), held_by_member={7: 2, 8: 0})
    state = gate.state(POOL)
    assert (state.units_left, state.admitted_units, dict(state.held_by_member)) == (1, 0, {7: 2})
    assert gate.attempt(POOL, 7).refusal == Refusal.OVER_CAP
    assert gate.attempt(POOL, 8).admitted
    assert gate.attempt(POOL, 9).refusal == Refusal.SOLD_OUT
    gate.configure(spec(priority_until=timezone.now() + timedelta(hours=1)))
    assert gate.attempt(POOL, 7).refusal == Refusal.PRIORITY_ONLY  # the old priority set is gone


def test_configure_carries_big_holdings_and_priority_sets(gate):
    members = range(1, 12_001)
    gate.configure(
        spec(units=5, cap=1, priority_until=timezone.now() + timedelta(hours=1)),
        held_by_member={member: 1 for member in members if member % 2},
        priority_members=members,
    )
    assert len(gate.state(POOL).held_by_member) == 6_000
    if isinstance(gate, RedisGate):  # the rebuilt maps live as long as the pool, staging names are gone
        keys = set(gate._client.keys("gate:*"))
        assert keys == {"gate:{flash:1:1}:pool", "gate:{flash:1:1}:held", "gate:{flash:1:1}:priority"}
        assert {gate._client.pttl(key) for key in keys} == {-1}
    assert gate.attempt(POOL, 11_999).refusal == Refusal.OVER_CAP
    assert gate.attempt(POOL, 12_000).admitted
    assert gate.attempt(POOL, 12_001).refusal == Refusal.PRIORITY_ONLY
    gate.add_priority_members(POOL, range(12_001, 24_001))
    assert gate.attempt(POOL, 24_000).admitted
    assert gate.attempt(POOL, 24_001).refusal == Refusal.PRIORITY_ONLY


def test_claim_ids_are_unique_across_pools_and_reconfigurations(gate):
    seen: list[str] = []
    for round_ in range(3):
        for pool in ("flash:1:1", "flash:1:2"):
            gate.configure(spec(key=pool, units=5, cap=5))
            seen.extend(gate.attempt(pool, round_, quantity=1).claim_id for _ in range(5))
    assert len(set(seen)) == len(seen) == 30
    assert all(claim_id and len(claim_id) <= 64 for claim_id in seen)


@pytest.mark.parametrize("key", ["", "flash:{1}", "flash 1", "x" * 101])
def test_pool_keys_are_plain_names(gate, key):
    with pytest.raises(ValueError, match="pool key"):
        gate.configure(spec(key=key))


def test_a_blocking_read_with_nothing_to_read_returns_nothing(gate):
    gate.configure(spec())
    assert gate.read_claims("flash", "consumer-1", block_ms=1) == []


def test_forget_drops_the_pool(gate):
    gate.configure(spec())
    gate.forget(POOL)
    assert gate.state(POOL).ready is False
    assert gate.attempt(POOL, 7).refusal == Refusal.NOT_READY


def test_rate_limits_refuse_a_hammering_member_and_address_first(make_gate):
    limited = make_gate(RateLimits(per_member=3, per_ip=5, window_ms=600_000))
    limited.configure(spec(units=100, cap=100))
    answers = [limited.attempt(POOL, 7, client_ip="10.0.0.1") for _ in range(5)]
    assert [a.admitted for a in answers] == [True, True, True, False, False]
    assert {a.refusal for a in answers[3:]} == {Refusal.RATE_LIMITED}
    # The address has used its 5 (refused attempts count too): other members behind it wait as well.
    assert [limited.attempt(POOL, 8, client_ip="10.0.0.1").admitted for _ in range(2)] == [False, False]
    assert limited.attempt(POOL, 9, client_ip="10.0.0.2").admitted
    assert limited.attempt(POOL, 10).admitted  # no address given: only the member's limit applies
    # A limited attempt takes nothing from the pool.
    assert limited.state(POOL).admitted_units == 5
    unknown = limited.attempt("flash:9:9", 7)
    assert unknown.refusal == Refusal.RATE_LIMITED  # checked before anything else
    # An engine without limits never answers rate_limited.
    plain = make_gate()
    plain.configure(spec(units=100, cap=100))
    assert all(plain.attempt(POOL, 11).refusal != Refusal.RATE_LIMITED for _ in range(20))


def test_each_owner_reads_only_its_own_claims(gate):
    """A flash sale and a 接龙 running at once: neither consumer holds up the other's claims."""
    gate.configure(spec())
    gate.configure(spec(key="jielong:9"))
    flash = gate.attempt(POOL, 7)
    jielong = gate.attempt("jielong:9", 7)
    assert [c.claim_id for c in gate.read_claims("jielong", "consumer-1")] == [jielong.claim_id]
    assert gate.read_claims("jielong", "consumer-1") == []
    (claim,) = gate.read_claims("flash", "consumer-2")
    assert claim.claim_id == flash.claim_id
    assert gate.pending_claims("jielong", "consumer-3", idle_ms=0)[0].claim_id == jielong.claim_id
    gate.ack([claim])
    assert gate.pending_claims("flash", "consumer-3", idle_ms=0) == []
