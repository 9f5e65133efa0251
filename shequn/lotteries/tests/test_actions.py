"""The lottery's rules as a member and an operator meet them: guardrails, one entry each, the
timed draw (commit–reveal), the wheel's stock and spins, prizes as zero-price orders."""

from dataclasses import replace
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from shequn.core.errors import DomainError
from shequn.core.models import AuditLog
from shequn.lotteries import actions, draw, selectors
from shequn.lotteries.actions import PrizeInput
from shequn.lotteries.enums import LotteryStatus, WinStatus
from shequn.lotteries.models import Entry, Spin, Win
from shequn.notifications.models import Notification
from shequn.orders.enums import OrderStatus
from shequn.testing.community import make_members
from shequn.testing.orders import paid_order

from .conftest import draw_input, published, wheel_input

pytestmark = pytest.mark.django_db


def claim(member, win, pickup_point) -> Win:
    return actions.claim_prize(member, win.pk, fulfilment="pickup", pickup_point_id=pickup_point.pk)


def refused(call) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value


@pytest.mark.parametrize("condition", ["share", "invite", "moments", "post"])
def test_sharing_or_inviting_is_never_a_condition(shop, operator, community, sku, condition):
    error = refused(
        lambda: actions.create_lottery(shop, operator, draw_input(community, sku, entry_condition=condition))
    )
    assert error.code == "lottery_sharing_refused"
    assert "分享" in error.message
    assert "邀请好友" in error.message


def test_top_prize_above_fifty_thousand_yuan_is_refused(shop, operator, community, sku):
    prizes = [PrizeInput(name="汽车", kind="goods", value_fen=5_000_001, quantity=1, sku_id=sku.pk)]
    error = refused(lambda: actions.create_lottery(shop, operator, draw_input(community, sku, prizes=prizes)))
    assert error.code == "lottery_invalid"
    assert "¥50,000.00" in error.message
    prizes = [replace(prizes[0], value_fen=5_000_000)]
    assert actions.create_lottery(shop, operator, draw_input(community, sku, prizes=prizes)).prizes.count() == 1


def test_rules_and_prizes_are_frozen_once_started(shop, operator, community, sku, commit):
    lottery = published(shop, operator, draw_input(community, sku), commit)
    changed = draw_input(community, sku, start=lottery.starts_at, title="改了标题")
    # Before the start a published lottery may still be corrected (its seed commitment stays).
    actions.update_lottery(shop, operator, lottery.pk, changed)
    lottery.refresh_from_db()
    assert (lottery.title, lottery.status) == ("改了标题", LotteryStatus.PUBLISHED)
    with time_machine.travel(lottery.starts_at + timedelta(seconds=1)):
        error = refused(lambda: actions.update_lottery(shop, operator, lottery.pk, replace(changed, title="再改")))
    assert (error.code, error.message) == ("lottery_frozen", "抽奖已开始，规则和奖品已冻结，不能再修改")
    lottery.refresh_from_db()
    assert lottery.title == "改了标题"


def test_rules_are_published_before_the_start(shop, operator, community, sku):
    lottery = actions.create_lottery(shop, operator, draw_input(community, sku))
    with time_machine.travel(lottery.starts_at):
        error = refused(lambda: actions.publish_lottery(shop, operator, lottery.pk))
    assert error.code == "lottery_start_passed"


def test_one_entry_per_member_numbered_in_order(shop, operator, community, sku, member, other_member, outsider, commit):
    lottery = published(shop, operator, draw_input(community, sku), commit)
    assert draw.commitment(lottery.seed) == lottery.seed_hash
    with time_machine.travel(lottery.starts_at + timedelta(minutes=1)):
        first, created = actions.enter(member, lottery.pk)
        again, created_again = actions.enter(member, lottery.pk)
        second, _ = actions.enter(other_member, lottery.pk)
        assert refused(lambda: actions.enter(outsider, lottery.pk)).code == "lottery_members_only"
    assert (first.number, created, again.pk, created_again, second.number) == (1, True, first.pk, False, 2)
    assert selectors.public_entries(lottery) == [{"number": 1, "name": "小*"}, {"number": 2, "name": "老*"}]


def test_entering_is_rate_limited(shop, operator, community, sku, member, commit):
    lottery = published(shop, operator, draw_input(community, sku), commit)
    with time_machine.travel(lottery.starts_at + timedelta(minutes=1), tick=False):
        for _ in range(actions.ENTRIES_PER_MINUTE):
            actions.enter(member, lottery.pk)
        assert refused(lambda: actions.enter(member, lottery.pk)).status == 429


def test_purchase_condition_counts_paid_orders_in_the_window(shop, operator, community, sku, member, commit):
    now = timezone.now()
    data = draw_input(
        community,
        sku,
        entry_condition="purchase",
        product_id=sku.product_id,
        purchase_from=now - timedelta(days=1),
        purchase_until=now + timedelta(days=1),
    )
    lottery = published(shop, operator, data, commit)
    with time_machine.travel(lottery.starts_at + timedelta(minutes=1)):
        assert refused(lambda: actions.enter(member, lottery.pk)).code == "lottery_purchase_required"
    paid_order(member, sku, fulfilment="pickup")
    with time_machine.travel(lottery.starts_at + timedelta(minutes=1)):
        assert actions.enter(member, lottery.pk)[1] is True


def test_the_draw_reveals_the_seed_and_its_winners_are_the_published_algorithms(shop, operator, community, sku, commit):
    lottery = published(shop, operator, draw_input(community, sku), commit)
    members = make_members(community, 12)
    with time_machine.travel(lottery.starts_at + timedelta(minutes=1)):
        for user in members:
            actions.enter(user, lottery.pk)
    with time_machine.travel(lottery.draw_at - timedelta(seconds=1)):
        assert actions.draw_lottery(lottery.pk) is False  # not yet
    with time_machine.travel(lottery.draw_at + timedelta(seconds=1)):
        assert actions.draw_due() == 1
        assert actions.draw_lottery(lottery.pk) is False  # once
    lottery.refresh_from_db()
    assert lottery.status == LotteryStatus.DRAWN
    published_data = selectors.verification(lottery)
    assert draw.commitment(published_data["seed"]) == published_data["seed_hash"]
    expected = draw.winners(published_data["seed"], range(1, 13), [(1, 1), (2, 2)])
    assert [(w["number"], w["position"]) for w in published_data["winners"]] == expected
    assert Win.objects.filter(lottery=lottery).count() == 3
    winners = set(Win.objects.values_list("user_id", flat=True))
    assert set(Notification.objects.filter(kind="lottery.won").values_list("user_id", flat=True)) == winners
    audit = AuditLog.objects.get(action="lottery.draw")
    assert audit.detail["seed"] == lottery.seed
    assert audit.detail["winners"] == [list(pair) for pair in expected]


def test_fewer_entries_than_prizes_give_out_only_what_finds_an_entry(shop, operator, community, sku, member, commit):
    lottery = published(shop, operator, draw_input(community, sku), commit)
    with time_machine.travel(lottery.starts_at + timedelta(minutes=1)):
        actions.enter(member, lottery.pk)
    with time_machine.travel(lottery.draw_at):
        actions.draw_lottery(lottery.pk)
    assert list(Win.objects.values_list("user_id", "prize__position")) == [(member.pk, 1)]


def test_winner_claims_a_goods_prize_as_a_zero_price_pickup_order(
    shop, operator, community, sku, member, pickup_point, commit
):
    lottery = published(shop, operator, draw_input(community, sku), commit)
    with time_machine.travel(lottery.starts_at + timedelta(minutes=1)):
        actions.enter(member, lottery.pk)
    with time_machine.travel(lottery.draw_at):
        actions.draw_lottery(lottery.pk)
    win = Win.objects.get()
    with time_machine.travel(lottery.draw_at + timedelta(hours=1)):
        claimed = claim(member, win, pickup_point)
        again = refused(
            lambda: actions.claim_prize(member, win.pk, fulfilment="pickup", pickup_point_id=pickup_point.pk)
        )
    order = claimed.order
    assert order is not None
    assert (claimed.status, order.total_fen, order.status, order.user_id) == (
        WinStatus.CLAIMED,
        0,
        OrderStatus.PAID,
        member.pk,
    )
    assert [(line.sku_id, line.quantity, line.unit_price_fen) for line in order.lines.all()] == [(sku.pk, 1, 0)]
    assert again.code == "lottery_prize_claimed"


def test_unclaimed_prizes_are_forfeited_after_the_deadline(
    shop, operator, community, sku, member, pickup_point, commit
):
    lottery = published(shop, operator, draw_input(community, sku), commit)
    with time_machine.travel(lottery.starts_at + timedelta(minutes=1)):
        actions.enter(member, lottery.pk)
    with time_machine.travel(lottery.draw_at):
        actions.draw_lottery(lottery.pk)
    win = Win.objects.get()
    with time_machine.travel(lottery.claim_deadline + timedelta(seconds=1)):
        assert actions.forfeit_unclaimed() == 1
        error = refused(
            lambda: actions.claim_prize(member, win.pk, fulfilment="pickup", pickup_point_id=pickup_point.pk)
        )
    assert error.code == "lottery_claim_closed"
    assert Win.objects.get().status == WinStatus.FORFEITED
    assert AuditLog.objects.filter(action="lottery.forfeited").count() == 1


def test_wheel_spins_once_per_member_and_never_gives_more_than_the_stock(shop, operator, community, sku, commit):
    everything_wins = [
        PrizeInput(name="礼盒", kind="goods", value_fen=29900, quantity=3, sku_id=sku.pk, odds_ppm=10**6)
    ]
    lottery = published(shop, operator, wheel_input(community, sku, prizes=everything_wins), commit)
    members = make_members(community, 8)
    with time_machine.travel(lottery.starts_at + timedelta(minutes=1)):
        results = [actions.spin(user, lottery.pk) for user in members]
        assert refused(lambda: actions.spin(members[0], lottery.pk)).code == "lottery_no_spins_left"
    assert all(result.spin is not None for result in results)
    assert Spin.objects.count() == 8
    assert Win.objects.count() == 3  # every draw lands on the prize; its stock stops it at 3
    assert [p.left for p in lottery.prizes.all()] == [0]
    assert AuditLog.objects.filter(action="lottery.spins").count() == 8


def test_wheel_odds_are_the_published_ones():
    """200,000 simulated spins with a fixed seed and stock enough for all: each prize's share is
    within 5 standard deviations of its odds (binomial), and the rest win nothing."""
    import math
    import random

    odds = [(1, 10_000, 10**9), (2, 100_000, 10**9), (3, 250_000, 10**9)]
    spins = 200_000
    generator = random.Random(2026)
    counts = {1: 0, 2: 0, 3: 0, None: 0}
    for _ in range(spins):
        counts[draw.choose_prize(generator.randrange(draw.ODDS_SCALE), odds)] += 1
    for prize_id, ppm in [(1, 10_000), (2, 100_000), (3, 250_000), (None, 640_000)]:
        p = ppm / draw.ODDS_SCALE
        assert abs(counts[prize_id] - spins * p) <= 5 * math.sqrt(spins * p * (1 - p)), (prize_id, counts)


def test_a_prize_out_of_stock_wins_nothing_and_leaves_the_others_odds():
    odds = [(1, 500_000, 0), (2, 500_000, 3)]
    assert draw.choose_prize(10, odds) is None
    assert draw.choose_prize(600_000, odds) == 2
    assert draw.choose_prize(999_999, [(1, 500_000, 1)]) is None


def test_wheel_members_only_and_not_before_the_start(shop, operator, community, sku, member, outsider, commit):
    lottery = published(shop, operator, wheel_input(community, sku), commit)
    assert refused(lambda: actions.spin(member, lottery.pk)).code == "lottery_not_open"
    with time_machine.travel(lottery.starts_at + timedelta(minutes=1)):
        assert refused(lambda: actions.spin(outsider, lottery.pk)).code == "lottery_members_only"
        assert refused(lambda: actions.enter(member, lottery.pk)).code == "lottery_mode_mismatch"
    assert Entry.objects.count() == 0


def test_a_delivered_prize_leaves_only_the_shops_delivery_fee_to_pay(shop, operator, community, sku, member, commit):
    from shequn.testing.factories import AddressFactory

    shop.shipping_fee_fen, shop.free_shipping_threshold_fen = 1000, 9900
    shop.save(update_fields=["shipping_fee_fen", "free_shipping_threshold_fen"])
    address = AddressFactory.create(user=member)
    lottery = published(shop, operator, draw_input(community, sku), commit)
    with time_machine.travel(lottery.starts_at + timedelta(minutes=1)):
        actions.enter(member, lottery.pk)
    with time_machine.travel(lottery.draw_at):
        actions.draw_lottery(lottery.pk)
    with time_machine.travel(lottery.draw_at + timedelta(hours=1)):
        win = actions.claim_prize(member, Win.objects.get().pk, fulfilment="delivery", address_id=address.pk)
    assert win.order is not None
    assert (win.order.items_total_fen, win.order.total_fen, win.order.status) == (
        0,
        1000,
        OrderStatus.PENDING_PAYMENT,
    )
