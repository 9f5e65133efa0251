"""The split rule, for any pool and count (hypothesis)."""

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shequn.redpackets import split


@st.composite
def pools(draw: st.DrawFn) -> tuple[int, int, int]:
    count = draw(st.integers(min_value=1, max_value=2_000))
    total = draw(st.integers(min_value=count, max_value=count * 50_000))
    return total, count, draw(st.integers(min_value=0, max_value=2**32))


@given(pools())
def test_random_parts_sum_to_the_pool_and_stay_within_the_rule(pool: tuple[int, int, int]) -> None:
    total, count, seed = pool
    parts = split.random_parts(total, count, random.Random(seed))
    assert len(parts) == count
    assert sum(parts) == total
    assert min(parts) >= 1
    left = total
    for index, part in enumerate(parts[:-1]):
        assert part <= 2 * left // (count - index)  # twice the mean of what is left
        left -= part
    assert parts[-1] == left  # the last takes the rest


@given(pools())
def test_equal_parts_sum_to_the_pool_and_differ_by_at_most_a_fen(pool: tuple[int, int, int]) -> None:
    total, count, _seed = pool
    parts = split.equal_parts(total, count)
    assert len(parts) == count
    assert sum(parts) == total
    assert min(parts) >= 1
    assert max(parts) - min(parts) <= 1


def test_a_pool_smaller_than_a_fen_per_part_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot make"):
        split.random_parts(99, 100)
    with pytest.raises(ValueError, match="cannot make"):
        split.equal_parts(0, 0)
