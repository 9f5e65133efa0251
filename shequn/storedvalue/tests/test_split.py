"""Refunds by source, as a property: whatever the order was paid with and however it is refunded
in parts, no source gets back more than it gave, and refunding everything returns each exactly."""

from hypothesis import given
from hypothesis import strategies as st

from shequn.storedvalue.actions import split_refund

amounts = st.integers(min_value=0, max_value=200_000)


@st.composite
def order_and_refunds(draw: st.DrawFn) -> tuple[list[int], int, list[int]]:
    sources = [draw(amounts), draw(amounts), draw(amounts)]  # principal, bonus, spendable taken
    gateway = draw(amounts)
    total = sum(sources) + gateway
    refunds: list[int] = []
    left = total
    while left and len(refunds) < 8:
        refund = draw(st.integers(min_value=1, max_value=left))
        refunds.append(refund)
        left -= refund
    return sources, gateway, refunds


@given(order_and_refunds())
def test_refund_parts_stay_within_each_source_and_a_full_refund_returns_each_exactly(case):
    sources, gateway, refunds = case
    left, gateway_left = list(sources), gateway
    for refund in refunds:
        parts, gateway_part = split_refund(refund, left, gateway_left)
        assert sum(parts) + gateway_part == refund
        assert all(0 <= part <= still for part, still in zip(parts, left, strict=True))
        assert 0 <= gateway_part <= gateway_left
        left = [still - part for still, part in zip(left, parts, strict=True)]
        gateway_left -= gateway_part
    if sum(refunds) == sum(sources) + gateway:
        assert left == [0, 0, 0]
        assert gateway_left == 0


def test_a_refund_is_split_in_proportion_to_what_each_source_still_holds():
    # Paid ¥110 from the balances (¥100 principal, ¥10 bonus) and ¥90 by WeChat Pay; half back.
    assert split_refund(10_000, [10_000, 1_000, 0], 9_000) == ([5_000, 500, 0], 4_500)
