import pytest

from shequn.core.errors import RateLimited
from shequn.core.ratelimit import hit, reset


def test_hits_over_the_limit_are_refused_within_the_window():
    assert [hit("otp:1", limit=3, window_seconds=60) for _ in range(3)] == [1, 2, 3]
    with pytest.raises(RateLimited) as error:
        hit("otp:1", limit=3, window_seconds=60)
    assert error.value.status == 429
    # Another bucket is not affected.
    assert hit("otp:2", limit=3, window_seconds=60) == 1


def test_reset_clears_a_bucket():
    for _ in range(3):
        hit("login:x", limit=3, window_seconds=60)
    reset("login:x")
    assert hit("login:x", limit=3, window_seconds=60) == 1
