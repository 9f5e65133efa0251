"""Every contract test runs against both engines: ``gate`` is a LocalGate, then a RedisGate on a
throwaway redis-server (shequn.testing.redis; emptied before each test)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis
from django.utils import timezone

from shequn.gate.base import Gate, PoolSpec, RateLimits
from shequn.gate.local import LocalGate
from shequn.gate.redis import RedisGate

ENGINES = ["local", "redis"]


def spec(units: int = 3, cap: int = 2, **overrides: Any) -> PoolSpec:
    now = timezone.now()
    fields: dict[str, Any] = {
        "key": "flash:1:1",
        "units": units,
        "per_member_cap": cap,
        "opens_at": now - timedelta(minutes=1),
        "closes_at": now + timedelta(hours=1),
    }
    return PoolSpec(**{**fields, **overrides})


MakeGate = Callable[..., Gate]


@pytest.fixture(params=ENGINES)
def make_gate(request: pytest.FixtureRequest) -> Iterator[MakeGate]:
    """Builds gates of one engine sharing one state (for Redis: the same server), e.g. with limits."""
    built: list[RedisGate] = []
    if request.param == "local":
        shared: dict[str, LocalGate] = {}

        def make_local(limits: RateLimits | None = None) -> Gate:
            return shared.setdefault(repr(limits), LocalGate(limits=limits))

        yield make_local
        return
    url = request.getfixturevalue("redis_url")
    with redis.Redis.from_url(url) as client:
        client.flushdb()

    def make_redis(limits: RateLimits | None = None) -> Gate:
        gate = RedisGate(url, limits=limits)
        built.append(gate)
        return gate

    yield make_redis
    for gate in built:
        gate.close_connections()


@pytest.fixture
def gate(make_gate: MakeGate) -> Gate:
    return make_gate()
