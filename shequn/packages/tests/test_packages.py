"""Prepaid packages through the real order, payment and refund flow (sandbox gateway): buying,
redeeming into zero-payment orders, the ledger, pro-rata refunds and the liabilities report."""

from datetime import timedelta

import pytest
from django.utils import timezone

from shequn.catalog.models import Sku
from shequn.orders.enums import Fulfilment, OrderStatus, PaymentMethod
from shequn.orders.errors import SoldOut
from shequn.orders.models import Order
from shequn.packages import actions, selectors
from shequn.packages.enums import Channel, EntryKind, PackageStatus, RefundRule
from shequn.packages.errors import PackageInvalid, PackageNotRedeemable, PackageNotRefundable, PortionsShort
from shequn.testing.community import api_client
from shequn.testing.factories import PickupPointFactory
from shequn.testing.orders import make_member, make_shop, make_sku

from .conftest import JSON, PRICE, buy, make_plan

pytestmark = pytest.mark.django_db


def redeem(package, portions, *, actor=None, fulfilment=Fulfilment.DELIVERY, channel=Channel.MEMBER, **extra):
    if fulfilment == Fulfilment.DELIVERY:
        extra.setdefault("address_id", package.owner.addresses.first().pk)
    return actions.redeem(
        actor or package.owner, package, portions=portions, fulfilment=fulfilment, channel=channel, **extra
    )


def test_a_member_buys_100_portions_for_8000_through_an_ordinary_order(sandbox, commit, plan, member):
    package = buy(member, plan, commit)
    assert (package.portions_total, package.portions_left, package.paid_fen, package.value_left_fen) == (
        100,
        100,
        PRICE,
        PRICE,
    )
    assert package.status == PackageStatus.ACTIVE
    assert package.expires_at.date() == (timezone.now() + timedelta(days=365)).date()
    order = Order.objects.get(pk=package.order_line.order_id)
    assert (order.kind, order.status, order.total_fen, order.shipping_fee_fen) == ("package", "completed", PRICE, 0)
    # The sale took one of the 50 packages on offer.
    assert Sku.objects.get(product=plan.product).stock == 49
    assert [(e.kind, e.portions, e.value_fen) for e in selectors.history(package)] == [(EntryKind.BOUGHT, 100, PRICE)]


def test_redeeming_3_portions_in_two_orders_creates_zero_payment_orders(sandbox, commit, plan, member, crayfish):
    package = buy(member, plan, commit)
    first = redeem(package, 2)
    point = PickupPointFactory.create(shop=plan.shop)
    second = redeem(package, 1, fulfilment=Fulfilment.PICKUP, pickup_point_id=point.pk)
    for order, quantity in ((first, 2), (second, 1)):
        order.refresh_from_db()
        line = order.lines.get()
        assert (order.status, order.payment_method, order.total_fen, order.shipping_fee_fen) == (
            OrderStatus.PAID,
            PaymentMethod.PREPAID,
            0,
            0,
        )
        assert (line.sku_id, line.quantity, line.unit_price_fen, line.paid_fen) == (crayfish.pk, quantity, 0, 0)
        assert order.user_id == member.pk
        assert order.paid_at is not None
    assert (first.fulfilment, first.recipient) == (Fulfilment.DELIVERY, member.addresses.first().recipient)
    assert second.pickup_point_id == point.pk
    package.refresh_from_db()
    assert (package.portions_left, package.value_left_fen) == (97, PRICE * 97 // 100)
    assert Sku.objects.get(pk=crayfish.pk).stock == 497
    redeemed = [(e.kind, e.portions, e.value_fen, e.order_id) for e in selectors.history(package)][:2]
    assert redeemed == [
        (EntryKind.REDEEMED, -1, -8000, second.pk),
        (EntryKind.REDEEMED, -2, -16000, first.pk),
    ]
    assert selectors.books_balance() == []
    # The member's order pages show them as paid by the package, and no money can be asked back.
    detail = api_client(member).get(f"/api/v1/orders/{first.number}").json()
    assert (detail["status"], detail["total_fen"], detail["payment_method"]) == ("paid", 0, "prepaid")
    refused = api_client(member).post(
        f"/api/v1/orders/{first.number}/refunds",
        {"line_id": first.lines.get().pk, "amount_fen": 1, "reason": "不想要了"},
        content_type=JSON,
    )
    assert refused.status_code in (409, 422)


def test_redemption_refusals_leave_everything_as_it_was(
    sandbox, commit, shop, operator, crayfish, member, time_machine
):
    plan = make_plan(shop, operator, crayfish, portions=5, shipping_included=False)
    package = buy(member, plan, commit)
    with pytest.raises(PackageNotRedeemable) as pickup_only:
        redeem(package, 1)
    assert pickup_only.value.code == "package_pickup_only"
    point = PickupPointFactory.create(shop=shop)
    with pytest.raises(PortionsShort):
        redeem(package, 6, fulfilment=Fulfilment.PICKUP, pickup_point_id=point.pk)
    # Sold out: the draw rolls back with the order.
    Sku.objects.filter(pk=crayfish.pk).update(stock=1)
    with pytest.raises(SoldOut):
        redeem(package, 2, fulfilment=Fulfilment.PICKUP, pickup_point_id=point.pk)
    package.refresh_from_db()
    assert (package.portions_left, package.value_left_fen) == (5, PRICE)
    time_machine.move_to(package.expires_at + timedelta(seconds=1), tick=False)
    with pytest.raises(PackageNotRedeemable) as expired:
        redeem(package, 1, fulfilment=Fulfilment.PICKUP, pickup_point_id=point.pk)
    assert expired.value.code == "package_expired"
    assert Order.objects.filter(payment_method=PaymentMethod.PREPAID).count() == 0
    assert selectors.books_balance() == []


def test_unused_portions_are_refunded_pro_rata_through_the_gateway(sandbox, commit, plan, member):
    package = buy(member, plan, commit)
    redeem(package, 3)
    with commit():
        refund = actions.do_refund_unused(member, package)
    assert refund is not None
    refund.refresh_from_db()
    assert (refund.status, refund.amount_fen) == ("refunded", PRICE * 97 // 100)
    package.refresh_from_db()
    assert (package.status, package.portions_left, package.value_left_fen) == (PackageStatus.REFUNDED, 0, 0)
    assert next((e.kind, e.portions, e.value_fen) for e in selectors.history(package)) == (
        EntryKind.REFUNDED,
        -97,
        -776000,
    )
    line = package.order_line
    line.refresh_from_db()
    assert line.refunded_fen == 776000
    with pytest.raises(PackageNotRefundable):
        actions.do_refund_unused(member, package)
    with pytest.raises(PackageNotRedeemable):
        redeem(package, 1)
    assert selectors.books_balance() == []


def test_pro_rata_shares_always_sum_to_what_was_paid():
    # ¥100.00 for 3 portions: the unused shares, then used + unused = paid at every step.
    assert [actions.value_left(10000, 3, left) for left in (3, 2, 1, 0)] == [10000, 6667, 3333, 0]
    assert actions.value_left(7, 3, 1) + (7 - actions.value_left(7, 3, 1)) == 7


def test_the_general_refund_path_and_a_no_refund_rule_refuse(sandbox, commit, shop, operator, crayfish, member):
    plan = make_plan(shop, operator, crayfish, refund_rule=RefundRule.NONE, title="不退款套餐")
    package = buy(member, plan, commit)
    with pytest.raises(PackageNotRefundable) as no_rule:
        actions.do_refund_unused(member, package)
    assert no_rule.value.code == "package_no_refund_rule"
    order = package.order_line.order
    asked = api_client(member).post(
        f"/api/v1/orders/{order.number}/refunds",
        {"line_id": package.order_line_id, "amount_fen": 100, "reason": "想退"},
        content_type=JSON,
    )
    assert (asked.status_code, asked.json()["code"]) == (409, "package_refund_on_package_page")
    other = make_member()
    with pytest.raises(PackageNotRefundable):
        actions.do_refund_unused(other, package)


def test_liabilities_are_the_ledger_summed_by_plan(sandbox, commit, shop, operator, crayfish, plan, member):
    small = make_plan(shop, operator, make_sku(shop, price_fen=500), title="绿豆汤", portions=10, price_fen=3000)
    first = buy(member, plan, commit)
    second = buy(make_member(), plan, commit)
    third = buy(member, small, commit)
    redeem(first, 3)
    redeem(third, 10)
    with commit():
        actions.do_refund_unused(second.owner, second)
    rows, total = selectors.liabilities(shop)
    assert [(r.title, r.holders, r.portions_left, r.value_left_fen) for r in rows] == [
        ("绿豆汤", 0, 0, 0),
        ("小龙虾 100 份套餐", 1, 97, 776000),
    ]
    assert (total.holders, total.portions_left, total.value_left_fen) == (1, 97, 776000)
    running = sum(p.value_left_fen for p in selectors.shop_packages(shop))
    assert running == total.value_left_fen
    assert selectors.books_balance(shop) == []


def test_a_plan_must_name_a_goods_item_of_the_shop_and_sold_plans_keep_their_portions(
    sandbox, commit, shop, operator, crayfish, plan, member
):
    other = make_sku(make_shop())
    with pytest.raises(PackageInvalid) as foreign:
        make_plan(shop, operator, other)
    assert foreign.value.details["field"] == "item_sku_id"
    buy(member, plan, commit)
    data = actions.PlanInput(
        title="改份数", item_sku_id=crayfish.pk, portions=90, price_fen=PRICE, validity_days=365, stock=10
    )
    with pytest.raises(PackageInvalid):
        actions.do_save_plan(shop, data, actor=operator, plan=plan)
    data.portions = 100
    saved = actions.do_save_plan(shop, data, actor=operator, plan=plan)
    assert (saved.title, Sku.objects.get(product=saved.product).stock) == ("改份数", 10)
