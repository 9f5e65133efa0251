"""Commission on an order paid with a coupon: on what the buyer actually paid for each line."""

import pytest

from shequn.coupons import actions as coupon_actions
from shequn.distribution import actions
from shequn.distribution.models import Commission
from shequn.orders import actions as order_actions
from shequn.testing.coupons import make_coupon_template
from shequn.testing.factories import AddressFactory
from shequn.testing.orders import make_sku, make_staff

from .helpers import chain

pytestmark = pytest.mark.django_db


def test_commission_is_on_the_paid_share_and_comes_back_with_a_refund(shop, operator):
    actions.do_update_settings(operator, shop, {"tiers": 1, "attribution": "last_touch"})
    actions.do_save_rule(operator, shop, {"scope": "shop", "kind": "percent", "tier1_value": 1000, "tier2_value": 0})
    promoters = chain(shop, "AB")
    buyer = promoters["B"].user
    address = AddressFactory.create(user=buyer)
    apple, pear = make_sku(shop, price_fen=6000, stock=10), make_sku(shop, price_fen=4000, stock=10)
    coupon = coupon_actions.claim(buyer, make_coupon_template(shop).pk)  # 满100减20
    for sku in (apple, pear):
        order_actions.add_to_cart(buyer, sku.pk, 1)
    order = order_actions.create_order(
        buyer, fulfilment="delivery", payment_method="sandbox", address_id=address.pk, coupon_id=coupon.pk
    )
    order_actions.mark_paid(order)
    paid = {line.sku_id: line.paid_fen for line in order.lines.all()}
    assert paid == {apple.pk: 4800, pear.pk: 3200}  # ¥20 split 60:40
    bases = dict(Commission.objects.values_list("line__sku_id", "base_fen"))
    amounts = dict(Commission.objects.values_list("line__sku_id", "amount_fen"))
    assert bases == paid
    assert amounts == {apple.pk: 480, pear.pk: 320}  # 10 % of what was paid, not of ¥60 and ¥40
    pear_line = order.lines.get(sku=pear)
    refund = order_actions.request_refund(buyer, order.number, pear_line.pk, amount_fen=3200, reason="坏果")
    order_actions.approve_refund(refund, make_staff(shop))
    order_actions.complete_refund(refund)
    assert Commission.objects.get(line=pear_line).reversed_fen == 320
