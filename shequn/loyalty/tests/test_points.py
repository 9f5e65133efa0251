from datetime import date, datetime, timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from shequn.loyalty import actions, points
from shequn.loyalty.enums import PointsAccountKind as K
from shequn.loyalty.errors import CardNotFound, InsufficientPoints, PointsNotApplicable
from shequn.loyalty.models import MemberCard, PointsTransaction
from shequn.orders import actions as order_actions
from shequn.orders.enums import OrderStatus
from shequn.orders.models import Order
from shequn.testing.orders import make_shop, make_sku, paid_order, place_order

pytestmark = pytest.mark.django_db


def balances(shop, member):
    return points.member_balances(shop, member)


def level_of(member):
    level = MemberCard.objects.select_related("level").get(user=member).level
    return level.name if level else None


def books_ok(shop):
    return points.books_balance(shop) == 0 and points.entries_match_balances(shop)


def hand_over_and_close_window(order, staff):
    """Deliver the order, then let the after-sales window pass (the order completes itself)."""
    order_actions.ship_order(order.shop, order.pk, staff, tracking_company="顺丰", tracking_number="SF1")
    order_actions.mark_delivered(order.shop, order.pk, staff)
    later = timezone.now() + timedelta(days=settings.AFTER_SALES_WINDOW_DAYS, minutes=1)
    assert order_actions.auto_complete_orders(now=later) >= 1
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED


def refund(order, amount, staff, line=None):
    line = line or order.lines.first()
    request = order_actions.request_refund(order.user, order.number, line.pk, amount_fen=amount, reason="不想要了")
    order_actions.approve_refund(request, staff)
    assert order_actions.complete_refund(request)
    return request


def test_the_ledger_posts_once_and_never_lets_a_member_go_negative(shop, member):
    assert points.move(shop, "t:1", K.ISSUED, K.AVAILABLE, member, 50)
    assert not points.move(shop, "t:1", K.ISSUED, K.AVAILABLE, member, 50)  # same reference: nothing
    with pytest.raises(InsufficientPoints):
        points.move(shop, "t:2", K.AVAILABLE, K.REDEEMED, member, 51)
    assert balances(shop, member) == {K.PENDING: 0, K.AVAILABLE: 50}
    assert PointsTransaction.objects.filter(shop=shop).count() == 1
    assert books_ok(shop)
    assert points.outstanding(shop) == {K.PENDING: 0, K.AVAILABLE: 50}


def test_opening_a_card_is_free_once_and_needs_the_shop_program(shop, member, program, levels):
    card = actions.open_card(member, shop)
    assert actions.open_card(member, shop) == card
    assert level_of(member) == "普通会员"
    assert len(card.number) == 16
    with pytest.raises(CardNotFound):
        actions.open_card(member, make_shop())  # a shop without a card program


def test_points_wait_for_the_window_then_raise_the_level_and_its_price_shows(shop, sku, member, staff, levels):
    actions.open_card(member, shop)
    order = paid_order(member, sku, 3)  # ¥105 + ¥0 shipping (free from ¥99)
    assert balances(shop, member) == {K.PENDING: 105, K.AVAILABLE: 0}
    # Before the window closes, the level and the price stay.
    assert level_of(member) == "普通会员"
    hand_over_and_close_window(order, staff)
    assert balances(shop, member) == {K.PENDING: 0, K.AVAILABLE: 105}
    assert (MemberCard.objects.get(user=member).growth_fen, level_of(member)) == (10500, "银卡")
    # The cart and checkout now charge the level's price, and delivery is free below ¥99.
    order_actions.add_to_cart(member, sku.pk, 1)
    line = order_actions.priced_cart(member)[0].prices[0]
    assert (line.unit_price_fen, line.member_price) == (3000, True)
    quote = order_actions.quote_checkout(member, fulfilment="delivery", payment_method="sandbox")
    assert (quote.plan.items_total_fen, quote.plan.shipping_fee_fen) == (3000, 0)
    assert books_ok(shop)


def test_a_refund_before_the_window_reverses_its_points_and_never_counts_as_growth(shop, sku, member, staff, levels):
    actions.open_card(member, shop)
    order = paid_order(member, sku, 3)  # 105 points pending
    refund(order, 3550, staff)  # ¥35.50 back: 105 - floor(69.50) = 36 points reversed
    assert balances(shop, member) == {K.PENDING: 69, K.AVAILABLE: 0}
    hand_over_and_close_window(order, staff)
    assert balances(shop, member) == {K.PENDING: 0, K.AVAILABLE: 69}
    assert (MemberCard.objects.get(user=member).growth_fen, level_of(member)) == (6950, "普通会员")
    assert books_ok(shop)


def test_a_refund_after_an_early_completion_takes_back_points_and_growth(shop, sku, member, staff, levels):
    actions.open_card(member, shop)
    order = paid_order(member, sku, 3, fulfilment="pickup")
    order_actions.mark_ready_for_pickup(shop, order.pk, staff)
    order_actions.mark_picked_up(shop, order.pk, staff)
    order_actions.complete_order(shop, order.pk, staff)  # staff closed it early: settled now
    assert level_of(member) == "银卡"
    refund(order, 3500, staff)
    assert balances(shop, member) == {K.PENDING: 0, K.AVAILABLE: 70}
    assert (MemberCard.objects.get(user=member).growth_fen, level_of(member)) == (7000, "普通会员")
    assert books_ok(shop)


def test_no_card_no_points(shop, sku, member, levels):
    paid_order(member, sku, 1)
    assert balances(shop, member) == {K.PENDING: 0, K.AVAILABLE: 0}


def test_a_category_earns_at_its_own_rate(shop, member, staff, program):
    from shequn.catalog.models import Category

    fresh = Category.objects.create(shop=shop, name="生鲜")
    sku = make_sku(shop, price_fen=5000, category=fresh)
    actions.set_category_rate(shop, staff, fresh.pk, 3)
    actions.open_card(member, shop)
    paid_order(member, sku, 1)
    assert balances(shop, member)[K.PENDING] == 150


def give(shop, member, count):
    points.move(shop, f"test:give:{member.pk}:{count}", K.ISSUED, K.AVAILABLE, member, count)


def test_points_are_redeemed_at_checkout_within_the_cap_and_come_back(shop, sku, member, staff, program):
    actions.open_card(member, shop)
    give(shop, member, 5000)
    # ¥105 of goods: at most 20 % = ¥21 = 2100 points.
    with pytest.raises(PointsNotApplicable) as refused:
        place_order(member, sku, 3, points=2200)
    assert refused.value.details == {"max_points": 2100}
    order = place_order(member, sku, 3, points=2100)
    assert (order.points_used, order.points_fen, order.discount_fen, order.total_fen) == (2100, 2100, 2100, 8400)
    assert sum(line.discount_fen for line in order.lines.all()) == 2100
    assert balances(shop, member)[K.AVAILABLE] == 2900
    order_actions.cancel_order_by_member(member, order.number)
    assert balances(shop, member)[K.AVAILABLE] == 5000
    # Paid, then a third of the goods refunded: a third of the points come back.
    order = paid_order(member, sku, 3, points=2100)
    assert order.points_used == 2100
    refund(order, 2800, staff)  # 8400 paid for goods; 2800 is a third
    assert balances(shop, member)[K.AVAILABLE] == 2900 + 700
    assert books_ok(shop)


def test_points_asked_beyond_the_balance_are_refused(shop, sku, member, program):
    actions.open_card(member, shop)
    give(shop, member, 100)
    with pytest.raises(PointsNotApplicable):
        place_order(member, sku, 1, points=101)
    assert not Order.objects.filter(user=member).exists()


def test_points_expire_at_the_end_of_the_next_year_oldest_spent_first(shop, member, program):
    import time_machine

    actions.open_card(member, shop)
    with time_machine.travel(timezone.make_aware(datetime(2024, 6, 1)), tick=False):
        give(shop, member, 300)
    with time_machine.travel(timezone.make_aware(datetime(2025, 3, 1)), tick=False):
        give(shop, member, 200)
        points.move(shop, "test:spend", K.AVAILABLE, K.REDEEMED, member, 100)  # from 2024's first
    assert actions.expire_points(today=date(2025, 12, 31)) == 0  # nothing of 2023
    assert actions.expire_points(today=date(2026, 1, 1)) == 200  # 2024's 300 less the 100 spent
    assert actions.expire_points(today=date(2026, 1, 2)) == 0  # once
    assert balances(shop, member)[K.AVAILABLE] == 200
    assert actions.expire_points(today=date(2027, 1, 1)) == 200
    assert books_ok(shop)


def test_the_birthday_coupon_comes_once_a_year(shop, member, staff, program):
    from shequn.coupons.models import MemberCoupon
    from shequn.testing.coupons import make_coupon_template

    template = make_coupon_template(shop, staff, name="生日券")
    actions.save_level(shop, staff, actions.LevelInput(name="普通会员", growth_fen=0, birthday_coupon_id=template.pk))
    actions.open_card(member, shop, birthday=date(1990, 3, 8))
    assert actions.give_birthday_coupons(today=date(2027, 3, 7)) == 0
    assert actions.give_birthday_coupons(today=date(2027, 3, 8)) == 1
    assert actions.give_birthday_coupons(today=date(2027, 3, 8)) == 0
    assert MemberCoupon.objects.filter(user=member, template=template, source="birthday").count() == 1
