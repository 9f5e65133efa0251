"""get_gate(): one gate per process, Redis when REDIS_URL is set."""

import pytest

from shequn.gate.base import RateLimits, Refusal
from shequn.gate.engine import get_gate, rate_limits, reset_gate
from shequn.gate.local import LocalGate
from shequn.gate.redis import RedisGate

from .conftest import spec


@pytest.fixture(autouse=True)
def fresh_gate():
    reset_gate()
    yield
    reset_gate()


def test_without_redis_one_local_gate_serves_the_whole_process(settings):
    settings.REDIS_URL = ""
    gate = get_gate()
    assert isinstance(gate, LocalGate)
    assert get_gate() is gate
    gate.configure(spec())
    assert get_gate().attempt("flash:1:1", 7).admitted


def test_with_redis_url_the_gate_is_redis_and_takes_the_limits_from_the_settings(settings, redis_url):
    settings.REDIS_URL = redis_url
    settings.GATE_RATE_LIMITS = [1, 100, 600_000]
    gate = get_gate()
    assert isinstance(gate, RedisGate)
    assert get_gate() is gate
    gate.configure(spec())
    assert gate.attempt("flash:1:1", 1_000_001).admitted
    assert gate.attempt("flash:1:1", 1_000_001).refusal == Refusal.RATE_LIMITED


def test_the_gate_may_have_its_own_redis(settings, redis_url):
    settings.REDIS_URL = ""
    settings.GATE_REDIS_URL = redis_url
    assert isinstance(get_gate(), RedisGate)


def test_empty_limits_mean_no_limiter(settings):
    settings.REDIS_URL = ""
    settings.GATE_RATE_LIMITS = []
    gate = get_gate()
    gate.configure(spec(units=50, cap=50))
    assert all(gate.attempt("flash:1:1", 7).admitted for _ in range(50))


def test_the_default_limits_are_a_few_taps_per_second(settings):

    settings.GATE_RATE_LIMITS = [10, 200, 1000]
    assert rate_limits() == RateLimits(per_member=10, per_ip=200, window_ms=1000)
