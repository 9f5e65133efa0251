"""A gate engine put in use for one test: the in-process LocalGate, or a RedisGate on the throwaway
redis-server (``redis_url`` fixture, shequn.testing.redis), emptied first."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis

from shequn.gate.base import Gate, RateLimits
from shequn.gate.engine import use_gate
from shequn.gate.local import LocalGate
from shequn.gate.redis import RedisGate


@contextmanager
def engine_in_use(request: pytest.FixtureRequest, kind: str, limits: RateLimits) -> Iterator[Gate]:
    engine: Gate
    if kind == "local":
        engine = LocalGate(limits=limits)
    else:
        url = request.getfixturevalue("redis_url")
        with redis.Redis.from_url(url) as client:
            client.flushdb()
        engine = RedisGate(url, limits=limits)
    previous = use_gate(engine)
    try:
        yield engine
    finally:
        use_gate(previous)
        if isinstance(engine, RedisGate):
            engine.close_connections()
