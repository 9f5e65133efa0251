"""Coupon and red-packet prizes: validated against the shop's own coupons and the ¥50,000 cap,
given once when the winner claims them, from a timed draw or the wheel."""

from datetime import timedelta

import pytest
import time_machine

from shequn.core.errors import DomainError
from shequn.coupons.enums import CouponSource, CouponStatus
from shequn.coupons.models import MemberCoupon
from shequn.lotteries import actions
from shequn.lotteries.actions import PrizeInput
from shequn.lotteries.enums import WinStatus
from shequn.lotteries.models import Win
from shequn.redpackets import actions as redpacket_actions
from shequn.testing.coupons import make_coupon_template
from shequn.wallets import ledger
from shequn.wallets.enums import AccountKind
from shequn.wallets.models import LedgerTransaction

from .conftest import draw_input, published, wheel_input

pytestmark = pytest.mark.django_db


def refused(call) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value


def drawn_win(shop, operator, community, sku, member, commit, prize: PrizeInput) -> Win:
    lottery = published(shop, operator, draw_input(community, sku, prizes=[prize]), commit)
    with time_machine.travel(lottery.starts_at + timedelta(minutes=1)):
        actions.enter(member, lottery.pk)
    with time_machine.travel(lottery.draw_at):
        actions.draw_lottery(lottery.pk)
    return Win.objects.get(lottery=lottery)


def test_a_coupon_prize_must_be_a_template_of_the_shop_with_stock_for_every_prize(
    shop, other_shop, operator, community, sku
):
    foreign = make_coupon_template(other_shop)
    few = make_coupon_template(shop, total_quantity=2, claimable=False)
    for template, quantity, words in ((foreign, 1, "请选择本店在发放中的优惠券"), (few, 3, "只剩 2 张")):
        prizes = [
            PrizeInput(
                name="满100减20券", kind="coupon", value_fen=2000, quantity=quantity, coupon_template_id=template.pk
            )
        ]
        error = refused(lambda: actions.create_lottery(shop, operator, draw_input(community, sku, prizes=prizes)))  # noqa: B023
        assert (error.code, words in error.message) == ("lottery_invalid", True)
    prizes = [PrizeInput(name="满100减20券", kind="coupon", value_fen=2000, quantity=2, coupon_template_id=few.pk)]
    lottery = actions.create_lottery(shop, operator, draw_input(community, sku, prizes=prizes))
    assert [(p.kind, p.coupon_template_id, p.sku_id) for p in lottery.prizes.all()] == [("coupon", few.pk, None)]


def test_a_red_packet_prize_counts_toward_the_fifty_thousand_yuan_cap(shop, operator, community, sku):
    prizes = [PrizeInput(name="现金红包", kind="red_packet", value_fen=5_000_001, quantity=1)]
    error = refused(lambda: actions.create_lottery(shop, operator, draw_input(community, sku, prizes=prizes)))
    assert "¥50,000.00" in error.message
    empty = [PrizeInput(name="现金红包", kind="red_packet", value_fen=0, quantity=1)]
    assert (
        "请填写红包金额"
        in refused(lambda: actions.create_lottery(shop, operator, draw_input(community, sku, prizes=empty))).message
    )


def test_the_winner_claims_a_coupon_prize_once(shop, operator, community, sku, member, commit):
    template = make_coupon_template(shop, claimable=False)
    prize = PrizeInput(name="满100减20券", kind="coupon", value_fen=2000, quantity=1, coupon_template_id=template.pk)
    win = drawn_win(shop, operator, community, sku, member, commit, prize)
    claimed = actions.claim_prize(member, win.pk)
    again = refused(lambda: actions.claim_prize(member, win.pk))
    coupon = MemberCoupon.objects.get(user=member)
    assert (claimed.status, claimed.coupon_id, claimed.order_id) == (WinStatus.CLAIMED, coupon.pk, None)
    assert (coupon.template_id, coupon.source, coupon.status) == (
        template.pk,
        CouponSource.LOTTERY,
        CouponStatus.CLAIMED,
    )
    assert again.code == "lottery_prize_claimed"
    template.refresh_from_db()
    assert template.remaining == 99


def test_a_coupon_that_cannot_be_issued_leaves_the_prize_to_claim(shop, operator, community, sku, member, commit):
    template = make_coupon_template(shop, claimable=False)
    prize = PrizeInput(name="满100减20券", kind="coupon", value_fen=2000, quantity=1, coupon_template_id=template.pk)
    win = drawn_win(shop, operator, community, sku, member, commit, prize)
    type(template).objects.filter(pk=template.pk).update(remaining=0)  # given away elsewhere since
    assert refused(lambda: actions.claim_prize(member, win.pk)).code == "coupon_sold_out"
    assert (Win.objects.get().status, MemberCoupon.objects.count()) == (WinStatus.WON, 0)


def test_a_red_packet_prize_is_credited_once_from_the_promotion_account(shop, operator, community, sku, member, commit):
    prize = PrizeInput(name="现金红包", kind="red_packet", value_fen=888, quantity=1)
    win = drawn_win(shop, operator, community, sku, member, commit, prize)
    actions.claim_prize(member, win.pk)
    assert refused(lambda: actions.claim_prize(member, win.pk)).code == "lottery_prize_claimed"
    # A replay of the credit itself (the same reference) moves nothing either.
    assert not redpacket_actions.pay_prize(shop, member, 888, reference=f"lottery:prize:{win.pk}", memo="")
    assert ledger.balance(shop, AccountKind.SPENDABLE, member) == 888
    assert ledger.balance(shop, AccountKind.PROMOTION_EXPENSE) == -888
    assert LedgerTransaction.objects.filter(reference=f"lottery:prize:{win.pk}").count() == 1


def test_a_red_packet_prize_follows_the_shops_withdrawable_setting(shop, operator, community, sku, member, commit):
    redpacket_actions.update_settings(shop, operator, withdrawable=True)
    prize = PrizeInput(name="现金红包", kind="red_packet", value_fen=500, quantity=1)
    win = drawn_win(shop, operator, community, sku, member, commit, prize)
    actions.claim_prize(member, win.pk)
    assert (
        ledger.balance(shop, AccountKind.AVAILABLE, member),
        ledger.balance(shop, AccountKind.SPENDABLE, member),
    ) == (500, 0)


def test_wheel_wins_give_coupons_and_red_packets_too(shop, operator, community, sku, member, commit):
    template = make_coupon_template(shop, claimable=False)
    prizes = [
        PrizeInput(
            name="满100减20券",
            kind="coupon",
            value_fen=2000,
            quantity=1,
            coupon_template_id=template.pk,
            odds_ppm=10**6,
        ),
    ]
    lottery = published(shop, operator, wheel_input(community, sku, prizes=prizes), commit)
    with time_machine.travel(lottery.starts_at + timedelta(minutes=1)):
        result = actions.spin(member, lottery.pk)
    assert result.spin is not None
    assert result.spin.prize is not None
    win = Win.objects.get(spin=result.spin)
    actions.claim_prize(member, win.pk)
    assert MemberCoupon.objects.filter(user=member, source=CouponSource.LOTTERY).count() == 1

    packet_prize = [PrizeInput(name="现金红包", kind="red_packet", value_fen=300, quantity=1, odds_ppm=10**6)]
    wheel = published(shop, operator, wheel_input(community, sku, prizes=packet_prize), commit)
    with time_machine.travel(wheel.starts_at + timedelta(minutes=1)):
        spun = actions.spin(member, wheel.pk)
    assert spun.spin is not None
    actions.claim_prize(member, Win.objects.get(spin=spun.spin).pk)
    assert ledger.balance(shop, AccountKind.SPENDABLE, member) == 300
