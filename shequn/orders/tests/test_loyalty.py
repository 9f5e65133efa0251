"""Member-card points and levels through checkout, payment, completion and refunds (ADR 0020)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from shequn.catalog.models import Category
from shequn.loyalty import actions
from shequn.loyalty.enums import PointsAccountKind as K
from shequn.loyalty.errors import PointsNotApplicable
from shequn.loyalty.models import MemberCard
from shequn.orders import actions as order_actions
from shequn.orders.enums import OrderStatus
from shequn.orders.models import Order
from shequn.testing.loyalty import balances, books_ok, give_points, level_of, make_levels, make_program
from shequn.testing.orders import make_sku, make_staff, paid_order, place_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(shop):
    return make_staff(shop)


@pytest.fixture
def sku(shop):
    return make_sku(shop, price_fen=3500, stock=100)


@pytest.fixture
def program(shop, staff):
    return make_program(shop, staff)


@pytest.fixture
def levels(shop, staff, program, sku):
    return make_levels(shop, staff, sku)


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
    fresh = Category.objects.create(shop=shop, name="生鲜")
    sku = make_sku(shop, price_fen=5000, category=fresh)
    actions.set_category_rate(shop, staff, fresh.pk, 3)
    actions.open_card(member, shop)
    paid_order(member, sku, 1)
    assert balances(shop, member)[K.PENDING] == 150


def test_points_are_redeemed_at_checkout_within_the_cap_and_come_back(shop, sku, member, staff, program):
    actions.open_card(member, shop)
    give_points(shop, member, 5000)
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
    give_points(shop, member, 100)
    with pytest.raises(PointsNotApplicable):
        place_order(member, sku, 1, points=101)
    assert not Order.objects.filter(user=member).exists()
