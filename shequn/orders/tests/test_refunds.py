from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shequn.catalog.models import Sku
from shequn.core.errors import InvalidTransition, NotFound, PermissionDenied
from shequn.core.models import AuditLog
from shequn.notifications.models import Notification
from shequn.orders import actions, selectors
from shequn.orders.enums import OrderStatus, PaymentMethod, RefundStatus
from shequn.orders.errors import (
    NotReturnable,
    OrderNotPaid,
    RefundAmountInvalid,
    RefundReasonRequired,
    RejectReasonRequired,
)
from shequn.orders.models import Order, OrderLine, RefundRequest
from shequn.orders.state import transition
from shequn.testing.orders import make_member, make_shop, make_sku, make_staff, paid_order, place_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(shop):
    return make_staff(shop)


def ask(order, line, amount, reason="质量问题"):
    return actions.request_refund(order.user, order.number, line.pk, amount_fen=amount, reason=reason)


def test_only_paid_orders_can_be_refunded(member, sku):
    order = place_order(member, sku)
    line = order.lines.get()
    with pytest.raises(OrderNotPaid):
        ask(order, line, 100)


def test_amount_caps_count_open_requests_and_refunds(member, sku):
    order = paid_order(member, sku, 2)  # line total 7000
    line = order.lines.get()
    first = ask(order, line, 3000)
    assert first.number.startswith("R")
    assert first.status == RefundStatus.REQUESTED
    with pytest.raises(RefundAmountInvalid) as error:
        ask(order, line, 4001)  # only 4000 left while the first request is open
    assert error.value.details == {"max_fen": 4000}
    with pytest.raises(RefundAmountInvalid):
        ask(order, line, 0)
    with pytest.raises(RefundReasonRequired):
        ask(order, line, 100, reason="  ")
    actions.reject_refund(sku.shop, first, make_staff(sku.shop), "已发出，不支持")
    # A rejected request frees its amount.
    ask(order, line, 7000)
    with pytest.raises(RefundAmountInvalid):
        ask(order, line, 1)


def test_non_returnable_line_is_refused_after_shipping_but_not_before(member, shop, staff):
    fresh = make_sku(shop, returnable=False, title="冰鲜三文鱼")
    order = paid_order(member, fresh)
    line = order.lines.get()
    assert line.returnable is False
    ask(order, line, 1000)  # before shipping, any paid line may be refunded
    actions.ship_order(shop, order.pk, staff, tracking_company="顺丰", tracking_number="SF123")
    with pytest.raises(NotReturnable) as error:
        ask(order, line, 1000)
    assert "冰鲜三文鱼" in error.value.message

    returnable = make_sku(shop)
    shipped = paid_order(member, returnable)
    actions.ship_order(shop, shipped.pk, staff, tracking_company="顺丰", tracking_number="SF124")
    ask(shipped, shipped.lines.get(), 500)


def test_after_sales_window_closes_seven_days_after_delivery(member, shop, staff):
    sku = make_sku(shop)
    order = paid_order(member, sku)
    actions.ship_order(shop, order.pk, staff, tracking_company="顺丰", tracking_number="SF1")
    actions.mark_delivered(shop, order.pk, staff)
    Order.objects.filter(pk=order.pk).update(delivered_at=timezone.now() - timedelta(days=8))
    with pytest.raises(NotReturnable) as error:
        ask(order, order.lines.get(), 100)
    assert error.value.code == "after_sales_window_closed"


def test_full_refund_flow_writes_events_and_notifications(member, shop, staff):
    sku = make_sku(shop)
    order = paid_order(member, sku, 2)
    line = order.lines.get()
    refund = ask(order, line, 2500)
    actions.approve_refund(refund, staff)
    assert refund.status == RefundStatus.APPROVED
    assert refund.decided_by == staff
    with pytest.raises(InvalidTransition):
        actions.approve_refund(refund, staff)
    assert actions.complete_refund(refund, refunded_at=timezone.now()) is True
    assert actions.complete_refund(refund) is False  # a duplicate notification changes nothing
    line.refresh_from_db()
    order.refresh_from_db()
    assert (line.refunded_fen, order.refunded_fen) == (2500, 2500)
    statuses = list(order.events.filter(refund=refund).values_list("to_status", flat=True))
    assert statuses == [RefundStatus.REQUESTED, RefundStatus.APPROVED, RefundStatus.REFUNDED]
    kinds = set(Notification.objects.filter(user=member).values_list("kind", flat=True))
    assert {"refund.approved", "refund.refunded"} <= kinds


def test_reject_needs_permission_reason_and_is_audited(member, shop, staff):
    order = paid_order(member, make_sku(shop))
    refund = ask(order, order.lines.get(), 100)
    operator = make_staff(shop, role="operator")
    with pytest.raises(PermissionDenied):
        actions.reject_refund(shop, refund, operator, "不行")
    with pytest.raises(RejectReasonRequired):
        actions.reject_refund(shop, refund, staff, "")
    actions.reject_refund(shop, refund, staff, "商品已食用", ip="10.0.0.1")
    refund.refresh_from_db()
    assert (refund.status, refund.reject_reason) == (RefundStatus.REJECTED, "商品已食用")
    log = AuditLog.objects.get(action="refund.reject")
    assert (log.actor, log.shop, log.ip, log.object_id) == (staff, shop, "10.0.0.1", str(refund.pk))
    assert Notification.objects.filter(user=member, kind="refund.rejected").count() == 1


def test_reject_refund_of_another_shop_is_not_found(member, shop, staff):
    other_shop = make_shop()
    order = paid_order(member, make_sku(other_shop))
    refund = ask(order, order.lines.get(), 100)
    with pytest.raises(NotFound):
        actions.reject_refund(shop, refund, staff, "不行")


def test_fail_refund_frees_the_amount_for_a_new_request(member, shop, staff):
    order = paid_order(member, make_sku(shop))
    line = order.lines.get()
    refund = ask(order, line, 3500)
    actions.approve_refund(refund, staff)
    assert actions.fail_refund(refund, "银行卡已注销") is True
    assert actions.fail_refund(refund, "银行卡已注销") is False
    ask(order, line, 3500)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    prices=st.lists(st.integers(min_value=1, max_value=5000), min_size=1, max_size=3),
    quantities=st.lists(st.integers(min_value=1, max_value=3), min_size=3, max_size=3),
    steps=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=2),  # which line
            st.integers(min_value=1, max_value=16000),  # amount asked
            st.sampled_from(["refund", "reject", "fail", "leave"]),
        ),
        max_size=12,
    ),
)
def test_refunds_never_exceed_the_payment_and_lines_sum_to_the_order(prices, quantities, steps):
    shop = make_shop()
    staff = make_staff(shop)
    member = make_member()
    lines_wanted = []
    for price, quantity in zip(prices, quantities, strict=False):
        lines_wanted.append((make_sku(shop, price_fen=price, stock=10), quantity))
    for sku, quantity in lines_wanted:
        actions.add_to_cart(member, sku.pk, quantity)
    order = actions.create_order(
        member, fulfilment="delivery", payment_method="sandbox", address_id=member.addresses.get().pk
    )
    actions.mark_paid(order)
    lines = list(order.lines.order_by("id"))
    for index, amount, outcome in steps:
        line = lines[index % len(lines)]
        try:
            refund = ask(order, line, amount)
        except RefundAmountInvalid:
            continue
        if outcome == "reject":
            actions.reject_refund(shop, refund, staff, "不符合退款条件")
        elif outcome in ("refund", "fail"):
            actions.approve_refund(refund, staff)
            if outcome == "refund":
                actions.complete_refund(refund)
            else:
                actions.fail_refund(refund, "异常")
    order.refresh_from_db()
    line_rows = list(OrderLine.objects.filter(order=order))
    assert order.refunded_fen <= order.total_fen
    assert sum(line.refunded_fen for line in line_rows) == order.refunded_fen
    for line in line_rows:
        assert line.refunded_fen <= line.total_fen
        refunded = sum(
            RefundRequest.objects.filter(line=line, status=RefundStatus.REFUNDED).values_list("amount_fen", flat=True)
        )
        assert refunded == line.refunded_fen
        open_fen = sum(
            RefundRequest.objects.filter(
                line=line, status__in=[RefundStatus.REQUESTED, RefundStatus.APPROVED]
            ).values_list("amount_fen", flat=True)
        )
        assert line.refunded_fen + open_fen <= line.total_fen
    assert Sku.objects.filter(shop=shop, stock__lt=0).count() == 0


def _refund_in_full(order, staff):
    for line in order.lines.order_by("id"):
        refund = ask(order, line, line.total_fen - line.refunded_fen)
        actions.approve_refund(refund, staff)
        actions.complete_refund(refund)
    order.refresh_from_db()
    return order


def test_a_paid_order_refunded_in_full_before_hand_over_closes_and_leaves_to_ship(member, shop, staff):
    order = paid_order(member, make_sku(shop, price_fen=5000), 2)  # free shipping: the lines are the total
    line = order.lines.get()
    part = ask(order, line, 1000)
    actions.approve_refund(part, staff)
    actions.complete_refund(part)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID  # partly refunded: the rest is still to be sent
    assert list(selectors.member_orders(member, "to_ship")) == [order]

    _refund_in_full(order, staff)
    assert (order.status, order.refunded_fen) == (OrderStatus.CLOSED, order.total_fen)
    assert order.events.filter(to_status=OrderStatus.CLOSED, note="已全额退款，订单关闭").count() == 1
    assert list(selectors.member_orders(member, "to_ship")) == []
    assert list(selectors.member_orders(member, "closed")) == [order]
    with pytest.raises(RefundAmountInvalid):
        ask(order, line, 1)
    # A late or repeated payment never reopens an order that was refunded in full.
    assert actions.reinstate_closed_order(order) is False
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CLOSED


def test_a_cod_order_paid_then_refunded_in_full_closes_too(member, shop, staff):
    order = paid_order(member, make_sku(shop, price_fen=9900), payment_method=PaymentMethod.COD)
    assert order.status == OrderStatus.PAID
    assert _refund_in_full(order, staff).status == OrderStatus.CLOSED


def test_an_order_already_handed_over_keeps_its_status_when_refunded_in_full(member, shop, staff):
    order = paid_order(member, make_sku(shop))
    actions.ship_order(shop, order.pk, staff, tracking_company="顺丰", tracking_number="SF9")
    assert _refund_in_full(order, staff).status == OrderStatus.SHIPPED  # after-sales of goods sent


def test_the_state_machine_closes_a_paid_order_only_when_refunded_in_full(member, shop):
    order = paid_order(member, make_sku(shop))
    with pytest.raises(InvalidTransition) as error:
        transition(order, OrderStatus.CLOSED)
    assert "全额退款" in error.value.message
