"""Redis killed with SIGKILL in the middle of a burst and started again, empty (no persistence):
the gate admits nobody until the owner rebuilds the pool from its truth, never sells more than
the units across both lives, and never hands out a claim id twice."""

from __future__ import annotations

import itertools
import threading

import redis

from shequn.gate.base import Admission, Refusal
from shequn.gate.redis import RedisGate

from .conftest import spec

POOL = "flash:1:1"
UNITS = 500
HAMMERS = 8


def run_of(claim_id: str | None) -> str:
    assert claim_id
    return claim_id.split("-")[0]


def test_a_redis_killed_mid_burst_admits_nobody_until_rebuilt_and_never_oversells(redis_server):
    gate = RedisGate(redis_server.url)
    gate.configure(spec(units=UNITS, cap=1))
    lock = threading.Lock()
    members = itertools.count(1)  # a new member for every attempt: each admission is one member's unit
    phase = ["first life"]
    # (phase when the attempt was sent, phase when its answer came, the answer; None: connection error)
    answers: list[tuple[str, str, Admission | None]] = []
    admitted_in_first_life = threading.Event()
    refused_as_not_ready = threading.Event()
    sold_out_again = threading.Event()
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            with lock:
                member = next(members)
            sent = phase[0]
            try:
                answer: Admission | None = gate.attempt(POOL, member)
            except redis.RedisError:
                answer = None
            answered = phase[0]
            with lock:
                answers.append((sent, answered, answer))
                admitted = sum(1 for _, _, a in answers if a and a.admitted)
            if admitted >= 50:
                admitted_in_first_life.set()
            if answer and sent == answered == "restarted" and answer.refusal == Refusal.NOT_READY:
                refused_as_not_ready.set()
            if answer and sent == "rebuilt" and answer.refusal == Refusal.SOLD_OUT:
                sold_out_again.set()

    hammers = [threading.Thread(target=hammer) for _ in range(HAMMERS)]
    for thread in hammers:
        thread.start()
    try:
        assert admitted_in_first_life.wait(timeout=60)
        # The consumer's last batch before the crash: these claims became orders in the database.
        ordered_before = gate.read_claims("flash", "consumer-1", count=10 * UNITS)
        phase[0] = "down"
        redis_server.kill()
        redis_server.start()
        phase[0] = "restarted"
        assert refused_as_not_ready.wait(timeout=60)  # the hammers reach the empty Redis: not_ready
        assert gate.state(POOL).ready is False
        assert gate.attempt(POOL, 0).refusal == Refusal.NOT_READY
        assert gate.read_claims("flash", "consumer-1") == []  # the stream and its group are re-created, empty
        # The owner rebuilds from its tables: the units less the orders it holds.
        phase[0] = "rebuilt"
        gate.configure(
            spec(units=UNITS - sum(c.quantity for c in ordered_before), cap=1),
            held_by_member={c.member_id: c.quantity for c in ordered_before},
        )
        assert sold_out_again.wait(timeout=60)
    finally:
        stop.set()
        for thread in hammers:
            thread.join()

    admissions = [answer for _, _, answer in answers if answer and answer.admitted]
    first_run = run_of(ordered_before[0].claim_id)
    first_life = [a for a in admissions if run_of(a.claim_id) == first_run]
    second_life = [a for a in admissions if run_of(a.claim_id) != first_run]
    # Sent and answered after the restart, before the rebuild: nothing but not_ready (or an error).
    between = [answer for sent, answered, answer in answers if sent == answered == "restarted"]
    assert between
    assert {answer.refusal for answer in between if answer} == {Refusal.NOT_READY}
    # Every admission after the restart is under one new run, and ids never repeat across lives.
    assert len({run_of(a.claim_id) for a in second_life}) == 1
    assert len({a.claim_id for a in admissions}) == len(admissions)
    assert len(first_life) >= 50  # the kill came after 50 admissions, in the middle of the burst
    assert not {c.claim_id for c in ordered_before} & {a.claim_id for a in second_life}
    # Never oversold: the orders from before plus everything admitted after is exactly the units.
    # (An ordered claim may have no admitted answer: the kill can cut the connection after the
    # script ran and before its answer arrived; that caller saw an error, and gets the order.)
    assert {run_of(c.claim_id) for c in ordered_before} == {first_run}
    assert len(ordered_before) + sum(1 for _ in second_life) == UNITS
    after = gate.read_claims("flash", "consumer-1", count=10 * UNITS)
    assert {c.claim_id for c in after} == {a.claim_id for a in second_life}
    state = gate.state(POOL)
    assert (state.units_left, sum(state.held_by_member.values())) == (0, UNITS)
    gate.close_connections()
