"""Coupon and red-packet prizes: validated against the shop's own coupons and the ¥50,000 cap,
coupons reserved at publication (so a claim rush cannot leave a winner without one) and put back at
the claim deadline, given once when the winner claims them, from a timed draw or the wheel."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from shequn.core.errors import DomainError
from shequn.coupons import actions as coupon_actions
from shequn.coupons.enums import CouponSource, CouponStatus
from shequn.coupons.models import MemberCoupon
from shequn.lotteries import actions
from shequn.lotteries.actions import PrizeInput
from shequn.lotteries.enums import WinStatus
from shequn.lotteries.models import Prize, Win
from shequn.redpackets import actions as redpacket_actions
from shequn.testing.coupons import make_coupon_template
from shequn.testing.orders import make_member
from shequn.wallets import ledger
from shequn.wallets.enums import AccountKind
from shequn.wallets.models import LedgerTransaction

from .conftest import draw_input, prize_coupon, published, wheel_input

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
    few = prize_coupon(shop, total_quantity=2)
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
    template = prize_coupon(shop)
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


def coupon_prizes(template, quantity: int) -> list[PrizeInput]:
    return [
        PrizeInput(name="满100减20券", kind="coupon", value_fen=2000, quantity=quantity, coupon_template_id=template.pk)
    ]


def stock(template) -> tuple[int, int, int]:
    """(remaining, reserved, held by members): always summing to the template's total."""
    template.refresh_from_db()
    held = MemberCoupon.objects.filter(template=template).count()
    assert template.remaining + template.reserved + held == template.total_quantity
    return template.remaining, template.reserved, held


def test_publishing_reserves_coupon_prizes_so_a_claim_rush_cannot_leave_the_winner_without_one(
    shop, operator, community, sku, member, other_member, outsider, commit
):
    template = make_coupon_template(shop, total_quantity=3, valid_until=timezone.now() + timedelta(days=30))
    lottery = actions.create_lottery(shop, operator, draw_input(community, sku, prizes=coupon_prizes(template, 1)))
    assert stock(template) == (3, 0, 0)  # a draft reserves nothing
    with commit():
        actions.publish_lottery(shop, operator, lottery.pk)
    assert stock(template) == (2, 1, 0)

    # The claim centre rush takes what is left, and no more.
    for user in (other_member, outsider):
        coupon_actions.claim(user, template.pk)
    assert refused(lambda: coupon_actions.claim(make_member(nickname="晚来的"), template.pk)).code == "coupon_sold_out"
    assert stock(template) == (0, 1, 2)

    with time_machine.travel(lottery.starts_at + timedelta(minutes=1)):
        actions.enter(member, lottery.pk)
    with time_machine.travel(lottery.draw_at):
        actions.draw_lottery(lottery.pk)
    claimed = actions.claim_prize(member, Win.objects.get(lottery=lottery).pk)
    assert MemberCoupon.objects.get(user=member).pk == claimed.coupon_id
    assert stock(template) == (0, 0, 3)
    assert Prize.objects.get(lottery=lottery).reserved == 0


def test_publishing_is_refused_when_the_coupon_has_fewer_left_than_the_prizes(
    shop, operator, community, sku, other_member, commit
):
    template = make_coupon_template(shop, total_quantity=2, valid_until=timezone.now() + timedelta(days=30))
    lottery = actions.create_lottery(shop, operator, draw_input(community, sku, prizes=coupon_prizes(template, 2)))
    coupon_actions.claim(other_member, template.pk)  # after the lottery was written, before it is published

    error = refused(lambda: actions.publish_lottery(shop, operator, lottery.pk))

    assert error.code == "lottery_coupon_short"
    assert error.message == "「满100减20券」：优惠券「满100减20」只剩 1 张（或已停发），不够预留给 2 份奖品"
    lottery.refresh_from_db()
    assert (lottery.status, lottery.seed_hash) == ("draft", "")
    assert stock(template) == (1, 0, 1)


def test_a_coupon_prize_must_stay_valid_until_the_claim_deadline(shop, operator, community, sku):
    template = make_coupon_template(shop, valid_until=timezone.now() + timedelta(days=3))
    data = draw_input(community, sku, prizes=coupon_prizes(template, 1))
    error = refused(lambda: actions.create_lottery(shop, operator, data))
    assert "在领奖截止前就会过期" in error.message


def test_correcting_a_published_lottery_moves_its_reservation_with_the_prizes(shop, operator, community, sku, commit):
    template = prize_coupon(shop, total_quantity=5)
    lottery = published(shop, operator, draw_input(community, sku, prizes=coupon_prizes(template, 2)), commit)
    assert stock(template) == (3, 2, 0)
    actions.update_lottery(shop, operator, lottery.pk, draw_input(community, sku, start=lottery.starts_at,
                                                                   prizes=coupon_prizes(template, 5)))  # fmt: skip
    assert stock(template) == (0, 5, 0)
    goods = draw_input(community, sku, start=lottery.starts_at)
    actions.update_lottery(shop, operator, lottery.pk, goods)
    assert stock(template) == (5, 0, 0)


def test_coupons_not_won_or_not_claimed_go_back_at_the_claim_deadline(shop, operator, community, sku, member, commit):
    template = prize_coupon(shop, total_quantity=10)
    lottery = published(shop, operator, draw_input(community, sku, prizes=coupon_prizes(template, 3)), commit)
    with time_machine.travel(lottery.starts_at + timedelta(minutes=1)):
        actions.enter(member, lottery.pk)  # one entry for three prizes
    with time_machine.travel(lottery.draw_at):
        actions.draw_lottery(lottery.pk)
    assert stock(template) == (7, 3, 0)
    win = Win.objects.get(lottery=lottery)

    with time_machine.travel(lottery.claim_deadline + timedelta(minutes=1)):
        assert actions.forfeit_unclaimed() == 1
        assert actions.forfeit_unclaimed() == 0  # safe to run twice: nothing is put back twice
        assert refused(lambda: actions.claim_prize(member, win.pk)).code == "lottery_claim_closed"

    assert stock(template) == (10, 0, 0)
    assert Win.objects.get(pk=win.pk).status == WinStatus.FORFEITED


def test_the_coupon_console_shows_what_prizes_hold(shop, operator, community, sku, console_client, commit):
    template = prize_coupon(shop, total_quantity=10)
    published(shop, operator, draw_input(community, sku, prizes=coupon_prizes(template, 3)), commit)
    page = console_client.get(f"/console/coupons/{template.pk}/").content.decode()
    assert "0 / 10" in page
    assert "（抽奖预留 3）" in page
    assert console_client.get(f"/api/v1/coupons/console/templates/{template.pk}").json()["reserved"] == 3


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
    template = prize_coupon(shop)
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
