"""RedisGate.attempt_async: the same script and state as attempt, for an asyncio front."""

from __future__ import annotations

import asyncio
from collections import Counter

import redis

from shequn.gate.base import RateLimits, Refusal
from shequn.gate.redis import RedisGate

from .conftest import spec
from .test_concurrency import ATTEMPTS, CAP, UNITS, assert_exactly_the_units_were_admitted, crowd

POOL = "flash:1:1"


def fresh_gate(url: str, limits: RateLimits | None = None) -> RedisGate:
    with redis.Redis.from_url(url) as client:
        client.flushdb()
    return RedisGate(url, limits=limits)


def test_two_thousand_concurrent_async_attempts_admit_exactly_the_units(redis_url):
    gate = fresh_gate(redis_url)
    gate.configure(spec(units=UNITS, cap=CAP))
    members = crowd()

    async def burst():
        try:
            return await asyncio.gather(*(gate.attempt_async(POOL, member) for member in members))
        finally:
            await gate.aclose()

    answers = asyncio.run(burst())
    assert Counter(a.refusal for a in answers if not a.admitted) == {Refusal.SOLD_OUT: ATTEMPTS - UNITS}
    admitted = [(member, a.claim_id) for member, a in zip(members, answers, strict=True) if a.admitted]
    assert_exactly_the_units_were_admitted(gate, admitted)
    gate.close_connections()


def test_async_and_sync_attempts_share_the_pool_caps_and_limits(redis_url):
    gate = fresh_gate(redis_url, RateLimits(per_member=60, per_ip=1_000, window_ms=600_000))
    gate.configure(spec(units=UNITS, cap=CAP))
    assert gate.attempt(POOL, 7).admitted

    async def race():
        try:
            return await asyncio.gather(*(gate.attempt_async(POOL, 7, client_ip="10.0.0.1") for _ in range(50)))
        finally:
            await gate.aclose()

    answers = asyncio.run(race())
    assert sum(a.admitted for a in answers) == CAP - 1
    assert Counter(a.refusal for a in answers if not a.admitted) == {Refusal.OVER_CAP: 50 - (CAP - 1)}
    # 51 attempts counted for member 7 so far: the limit of 60 refuses the tenth from now.
    later = [gate.attempt(POOL, 7).refusal for _ in range(10)]
    assert later == [Refusal.OVER_CAP] * 9 + [Refusal.RATE_LIMITED]
    gate.close_connections()


def test_async_attempts_reload_the_script_after_a_restart_and_answer_not_ready(redis_server):
    gate = RedisGate(redis_server.url)
    gate.configure(spec())

    async def attempt():
        try:
            return await gate.attempt_async(POOL, 7)
        finally:
            await gate.aclose()

    assert asyncio.run(attempt()).admitted
    redis_server.kill()
    redis_server.start()
    assert asyncio.run(attempt()).refusal == Refusal.NOT_READY
    gate.configure(spec())
    assert asyncio.run(attempt()).admitted
    gate.close_connections()
