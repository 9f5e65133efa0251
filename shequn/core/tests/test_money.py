from hypothesis import given
from hypothesis import strategies as st

from shequn.core.money import format_fen, percent_of, split_by_weights


def test_format_fen_shows_yuan_with_two_decimals():
    assert format_fen(2990) == "¥29.90"
    assert format_fen(5) == "¥0.05"
    assert format_fen(1234567) == "¥12,345.67"
    assert format_fen(-100) == "-¥1.00"


def test_split_gives_leftover_fen_to_largest_remainders():
    # 100 fen over three equal weights: 34 + 33 + 33, the first part wins the tie.
    assert split_by_weights(100, [1, 1, 1]) == [34, 33, 33]
    # 10 fen by 1:2:2 → exact shares 2, 4, 4.
    assert split_by_weights(10, [1, 2, 2]) == [2, 4, 4]
    assert split_by_weights(0, [3, 4]) == [0, 0]


def test_split_with_zero_weights_shares_equally():
    assert split_by_weights(5, [0, 0]) == [3, 2]


def test_percent_of_rounds_half_up():
    assert percent_of(1000, 250) == 25  # 2.5 % of ¥10
    assert percent_of(199, 5000) == 100  # 99.5 fen rounds up


@given(
    total=st.integers(min_value=-(10**9), max_value=10**9),
    weights=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=30),
)
def test_split_parts_always_sum_to_the_whole(total, weights):
    parts = split_by_weights(total, weights)
    assert sum(parts) == total
    assert len(parts) == len(weights)
    weight_sum = sum(weights)
    if weight_sum:
        # Each part is within one fen of its exact proportional share.
        for part, weight in zip(parts, weights, strict=True):
            assert abs(part - total * weight / weight_sum) < 1
