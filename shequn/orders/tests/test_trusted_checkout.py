"""What group buying needs from orders: trusted prices and lines, an earlier unpaid deadline,
lifecycle signals, cancelling and pickup moves on the system's behalf."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.dispatch import Signal
from django.utils import timezone

from shequn.core.errors import InvalidTransition
from shequn.orders import actions, signals
from shequn.orders.enums import OrderStatus
from shequn.orders.models import Order
from shequn.testing.factories import PickupPointFactory, ShopFactory, SkuFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return ShopFactory.create(unpaid_timeout_minutes=30)


@pytest.fixture
def received():
    """Every lifecycle signal sent, as (name, order number, extra)."""
    log: list[tuple] = []

    def paid(sender, order, **kwargs):
        log.append(("paid", order.number))

    def released(sender, order, **kwargs):
        log.append(("released", order.number))

    def refunded(sender, order, line, amount_fen, **kwargs):
        log.append(("refunded", order.number, amount_fen))

    pairs: list[tuple[Signal, Callable[..., None]]] = [
        (signals.order_paid, paid),
        (signals.order_released, released),
        (signals.line_refunded, refunded),
    ]
    for signal, handler in pairs:
        signal.connect(handler, sender=Order, weak=False)
    yield log
    for signal, handler in pairs:
        signal.disconnect(handler, sender=Order)


def campaign_order(shop, user=None, **extra):
    salmon = SkuFactory.create(product__shop=shop, price_fen=5000, stock=10)
    shrimp = SkuFactory.create(product__shop=shop, price_fen=3000, stock=10)
    point = PickupPointFactory.create(shop=shop)
    order = actions.create_order(
        user or UserFactory.create(),
        lines=[(salmon.pk, 2), (shrimp.pk, 1)],
        unit_prices={salmon.pk: 3990},
        fulfilment="pickup",
        payment_method="sandbox",
        pickup_point_id=point.pk,
        **extra,
    )
    return order, salmon, shrimp


def test_trusted_lines_prices_and_an_earlier_deadline(shop):
    deadline = timezone.now() + timedelta(minutes=10)
    order, salmon, shrimp = campaign_order(shop, pay_by=deadline)
    prices = {line.sku_id: (line.unit_price_fen, line.quantity) for line in order.lines.all()}
    assert prices == {salmon.pk: (3990, 2), shrimp.pk: (3000, 1)}
    assert order.total_fen == 3990 * 2 + 3000
    assert order.expires_at == deadline  # earlier than the shop's 30 minutes
    salmon.refresh_from_db()
    assert salmon.stock == 8


def test_a_later_deadline_than_the_shops_timeout_changes_nothing(shop):
    order, _, _ = campaign_order(shop, pay_by=timezone.now() + timedelta(days=2))
    assert order.expires_at - order.created_at <= timedelta(minutes=30, seconds=1)


def test_lifecycle_signals_fire_once_per_step(shop, received):
    order, _, _ = campaign_order(shop)
    actions.mark_paid(order)
    actions.mark_paid(order)  # a duplicate notification
    assert received == [("paid", order.number)]
    line = order.lines.first()
    refund = actions.request_refund(order.user, order.number, line.pk, amount_fen=1000, reason="少了一条")
    actions.approve_refund(refund, None)
    actions.complete_refund(refund)
    actions.complete_refund(refund)  # the gateway's duplicate REFUND.SUCCESS
    assert received[1:] == [("refunded", order.number, 1000)]

    unpaid, _, _ = campaign_order(shop)
    assert actions.cancel_automatically(unpaid.pk, "接龙未成团，订单已取消") is True
    assert actions.cancel_automatically(unpaid.pk, "again") is False
    assert received[-1] == ("released", unpaid.number)
    unpaid.refresh_from_db()
    assert unpaid.status == OrderStatus.CANCELLED
    assert unpaid.events.last().note == "接龙未成团，订单已取消"


def test_cancel_automatically_leaves_paid_orders_alone(shop):
    order, _, _ = campaign_order(shop)
    actions.mark_paid(order)
    assert actions.cancel_automatically(order.pk, "接龙已截止") is False
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_pickup_moves_on_behalf_of_a_pickup_point(shop):
    order, _, _ = campaign_order(shop)
    leader = UserFactory.create()
    with pytest.raises(InvalidTransition):
        actions.move_for_pickup(order, OrderStatus.READY_FOR_PICKUP, actor=leader, note="到货")  # unpaid
    actions.mark_paid(order)
    actions.move_for_pickup(order, OrderStatus.READY_FOR_PICKUP, actor=leader, note="团长已收货")
    actions.move_for_pickup(order, OrderStatus.PICKED_UP, actor=leader, note="取货码核销")
    with pytest.raises(InvalidTransition):
        actions.move_for_pickup(order, OrderStatus.PICKED_UP, actor=leader, note="again")
    order.refresh_from_db()
    assert order.status == OrderStatus.PICKED_UP
    assert order.delivered_at is not None
    assert list(order.events.values_list("actor", flat=True))[-2:] == [leader.pk, leader.pk]
    assert [n.kind for n in order.user.notifications.order_by("id")][-2:] == [
        "order.ready_for_pickup",
        "order.picked_up",
    ]


def test_a_held_order_is_not_handed_over_until_the_hold_is_released(shop):
    order, _, _ = campaign_order(shop, hold="拼团中")
    assert order.hold_reason == "拼团中"
    actions.mark_paid(order)
    leader = UserFactory.create()
    with pytest.raises(InvalidTransition) as held:
        actions.move_for_pickup(order, OrderStatus.READY_FOR_PICKUP, actor=leader, note="到货")
    assert held.value.message == "拼团中，暂不能发货或备货"
    assert actions.release_hold(order, "拼团成功，可以备货") is True
    assert actions.release_hold(order, "again") is False
    actions.move_for_pickup(order, OrderStatus.READY_FOR_PICKUP, actor=leader, note="到货")
    order.refresh_from_db()
    assert (order.status, order.hold_reason) == (OrderStatus.READY_FOR_PICKUP, "")
    assert "拼团成功，可以备货" in list(order.events.values_list("note", flat=True))
