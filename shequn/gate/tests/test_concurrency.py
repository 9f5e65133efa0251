"""Crowds at the gate: exact counts under parallel attempts, for both engines (threads) and for
Redis from several processes at once."""

from __future__ import annotations

import multiprocessing
import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import redis

from shequn.gate.base import Admission, Refusal
from shequn.gate.redis import RedisGate

from .conftest import spec
from .workers import burst

POOL = "flash:1:1"
ATTEMPTS, UNITS, MEMBERS, CAP = 2_000, 100, 1_500, 2


def crowd() -> list[int]:
    """2,000 attempts by 1,500 members: 500 of them try twice, in a shuffled order."""
    members = [attempt % MEMBERS + 1 for attempt in range(ATTEMPTS)]
    random.Random(13).shuffle(members)
    return members


def run_together(gate, members: list[int], threads: int = 32) -> list[tuple[int, Admission]]:
    """Every thread waits at a barrier, then all attempt at once; (member, answer) per attempt."""
    start = threading.Barrier(threads)

    def attempts(share: list[int]) -> list[tuple[int, Admission]]:
        start.wait()
        return [(member, gate.attempt(POOL, member)) for member in share]

    with ThreadPoolExecutor(max_workers=threads) as pool:
        shares = list(pool.map(attempts, [members[index::threads] for index in range(threads)]))
    return [answer for share in shares for answer in share]


def assert_exactly_the_units_were_admitted(gate, admitted: list[tuple[int, str | None]]) -> None:
    """``admitted``: (member, claim id) for every admitted answer."""
    assert len(admitted) == UNITS
    claim_ids = {claim_id for _, claim_id in admitted}
    assert len(claim_ids) == UNITS
    claims = gate.read_claims("flash", "consumer-1", count=10 * UNITS)
    assert gate.read_claims("flash", "consumer-2", count=10 * UNITS) == []
    assert len(claims) == UNITS
    assert {claim.claim_id for claim in claims} == claim_ids
    assert Counter(claim.member_id for claim in claims) == Counter(member for member, _ in admitted)
    state = gate.state(POOL)
    assert (state.units_left, state.admitted_units) == (0, UNITS)
    assert sum(state.held_by_member.values()) == UNITS
    assert dict(state.held_by_member) == dict(Counter(member for member, _ in admitted))
    assert max(state.held_by_member.values()) <= CAP


def test_two_thousand_parallel_attempts_admit_exactly_the_units(gate):
    gate.configure(spec(units=UNITS, cap=CAP))
    members = crowd()
    answers = run_together(gate, members)
    assert sorted(member for member, _ in answers) == sorted(members)
    admitted = [(member, a.claim_id) for member, a in answers if a.admitted]
    assert Counter(a.refusal for _, a in answers if not a.admitted) == {Refusal.SOLD_OUT: ATTEMPTS - UNITS}
    assert_exactly_the_units_were_admitted(gate, admitted)


def test_one_member_racing_fifty_attempts_gets_exactly_the_cap(gate):
    gate.configure(spec(units=UNITS, cap=CAP))
    answers = [answer for _, answer in run_together(gate, [7] * 50, threads=25)]
    assert sum(a.admitted for a in answers) == CAP
    assert Counter(a.refusal for a in answers if not a.admitted) == {Refusal.OVER_CAP: 50 - CAP}
    state = gate.state(POOL)
    assert (state.units_left, dict(state.held_by_member)) == (UNITS - CAP, {7: CAP})
    assert len(gate.read_claims("flash", "consumer-1", count=100)) == CAP


def test_four_processes_attempting_at_once_admit_exactly_the_units(redis_url):
    with redis.Redis.from_url(redis_url) as client:
        client.flushdb()
    gate = RedisGate(redis_url)
    try:
        gate.configure(spec(units=UNITS, cap=CAP))
        members = crowd()
        processes = 4
        context = multiprocessing.get_context("spawn")
        start, results = context.Barrier(processes), context.Queue()
        workers = [
            context.Process(target=burst, args=(redis_url, POOL, members[index::processes], 8, start, results))
            for index in range(processes)
        ]
        for worker in workers:
            worker.start()
        answers = [answer for _ in workers for answer in results.get(timeout=120)]
        for worker in workers:
            worker.join(timeout=60)
            assert worker.exitcode == 0
        results.close()
        results.join_thread()
        assert len(answers) == ATTEMPTS
        assert Counter(refusal for _, admitted, refusal, _ in answers if not admitted) == {"sold_out": ATTEMPTS - UNITS}
        admitted = [(member, claim_id) for member, was_admitted, _, claim_id in answers if was_admitted]
        assert_exactly_the_units_were_admitted(gate, admitted)
    finally:
        gate.close_connections()
