from datetime import timedelta

import pytest
from django.utils import timezone

from shequn.core.errors import NotFound
from shequn.orders import actions
from shequn.orders.models import Order
from shequn.orders.selectors import (
    access_member_order,
    access_order,
    access_refund,
    order_for_payment,
    staff_orders,
    todays_figures,
)
from shequn.testing.factories import PickupPointFactory
from shequn.testing.orders import make_member, make_shop, make_sku, paid_order, place_order

pytestmark = pytest.mark.django_db


def test_access_is_scoped_to_the_shop_and_the_member(member, shop):
    order = paid_order(member, make_sku(shop))
    refund = actions.request_refund(member, order.number, order.lines.get().pk, amount_fen=100, reason="坏了")
    other_shop = make_shop()
    assert access_order(shop, order.pk) == order
    assert access_refund(shop, refund.pk) == refund
    assert access_member_order(member, order.number) == order
    with pytest.raises(NotFound):
        access_order(other_shop, order.pk)
    with pytest.raises(NotFound):
        access_refund(other_shop, refund.pk)
    with pytest.raises(NotFound):
        access_member_order(make_member(), order.number)
    assert order_for_payment(order.number) == order
    with pytest.raises(NotFound):
        order_for_payment("00000000000000000000")


def test_staff_order_filters(member, shop):
    sku = make_sku(shop)
    point = PickupPointFactory.create(shop=shop)
    delivery = place_order(member, sku)
    pickup_cod = place_order(member, sku, fulfilment="pickup", payment_method="cod", pickup_point_id=point.pk)
    old = paid_order(member, sku)
    Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    other_buyer = make_member()
    theirs = place_order(other_buyer, sku)

    def numbers(**filters):
        return set(staff_orders(shop, **filters).values_list("number", flat=True))

    assert numbers() == {delivery.number, pickup_cod.number, old.number, theirs.number}
    assert numbers(fulfilment="pickup") == {pickup_cod.number}
    assert numbers(payment_method="cod") == {pickup_cod.number}
    assert numbers(status="paid") == {old.number}
    assert numbers(search=other_buyer.phone[-6:]) == {theirs.number}
    today = timezone.localdate()
    assert numbers(date_from=today) == {delivery.number, pickup_cod.number, theirs.number}
    assert numbers(date_to=today - timedelta(days=5)) == {old.number}
    assert numbers(search=delivery.number) == {delivery.number}
    assert set(staff_orders(make_shop()).values_list("number", flat=True)) == set()


def test_todays_figures_count_orders_and_paid_sales(member, shop):
    sku = make_sku(shop, price_fen=5000)
    place_order(member, sku)  # unpaid: counted as an order, not as sales
    paid = paid_order(member, sku, 2)  # 100.00, free shipping
    yesterday = paid_order(member, sku)
    Order.objects.filter(pk=yesterday.pk).update(
        created_at=timezone.now() - timedelta(days=1, hours=1), paid_at=timezone.now() - timedelta(days=1)
    )
    paid_order(make_member(), make_sku(make_shop()))  # another shop
    figures = todays_figures(shop)
    assert figures["orders"] == 2
    assert figures["paid_orders"] == 1
    assert figures["paid_sales_fen"] == paid.total_fen == 10000
    assert figures["to_ship"] == 2
