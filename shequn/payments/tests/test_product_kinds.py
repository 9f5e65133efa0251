"""Non-goods orders (a community fee, a course, a ticket) through the ordinary order and payment flow.

The rules of a kind are swapped for a recording double here, so these tests pin the orders
app's side of the contract in shequn/catalog/kinds.py; each kind's own rules are tested in
its app (communities, courses, events).
"""

from typing import Any

import pytest
from django.db import transaction
from django.urls import reverse

from shequn.catalog import kinds
from shequn.catalog.kinds import KindRules, ProductKind
from shequn.core.errors import DomainError, InvalidInput
from shequn.orders import actions
from shequn.orders.enums import Fulfilment, OrderStatus, PaymentMethod, RefundStatus
from shequn.orders.errors import PaymentMethodUnavailable
from shequn.orders.models import Order, OrderEvent, RefundRequest
from shequn.orders.selectors import after_payment_url
from shequn.payments import actions as payment_actions
from shequn.payments.models import GatewayRefund, Payment
from shequn.payments.sandbox import server
from shequn.testing.factories import ShopFactory, SkuFactory, UserFactory

pytestmark = pytest.mark.django_db

KIND = ProductKind.COURSE


class SeatTaken(DomainError):
    status = 409
    code = "seat_taken"


class RecordingRules(KindRules):
    """Grants what was paid for, records every call, and refuses what the test tells it to."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.refuse_purchase = False
        self.refuse_grant = ""
        self.refund_refusal_message = ""
        self.auto_approve = False

    def check_purchase(self, user: Any, sku: Any, quantity: int) -> None:
        self.calls.append(("check_purchase", sku.pk))
        if self.refuse_purchase:
            raise SeatTaken("名额已满")

    def paid(self, order: Any, line: Any) -> str | None:
        self.calls.append(("paid", line.pk))
        return self.refuse_grant or None

    def released(self, order: Any, line: Any) -> None:
        self.calls.append(("released", line.pk))

    def refund_refusal(self, order: Any, line: Any) -> DomainError | None:
        return InvalidInput(self.refund_refusal_message, code="too_late") if self.refund_refusal_message else None

    def auto_approves_refund(self, order: Any, line: Any) -> bool:
        return self.auto_approve

    def refunded(self, order: Any, line: Any, amount_fen: int) -> None:
        self.calls.append(("refunded", amount_fen))

    def landing_url(self, order: Any) -> str | None:
        return f"/landing/{order.number}/"

    def count(self, name: str) -> int:
        return sum(1 for call, _ in self.calls if call == name)


@pytest.fixture
def rules(monkeypatch):
    recording = RecordingRules()
    monkeypatch.setitem(kinds._RULES, KIND, recording)
    return recording


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def shop(db):
    return ShopFactory.create(cod_enabled=True, shipping_fee_fen=1000)


@pytest.fixture
def course_sku(shop):
    return SkuFactory.create(product__shop=shop, product__kind=KIND, price_fen=19900, stock=50)


def buy(user, sku, **extra):
    return actions.create_order(user, sku_id=sku.pk, fulfilment="none", payment_method=PaymentMethod.SANDBOX, **extra)


def pay(order, commit):
    url = payment_actions.start_payment(order, order.user)
    with commit():
        server.confirm(url.rstrip("/").rsplit("/", 1)[-1])
    order.refresh_from_db()
    return order


def test_a_course_order_needs_no_address_and_no_shipping(rules, shop, course_sku):
    order = actions.create_order(
        UserFactory.create(), sku_id=course_sku.pk, fulfilment="delivery", payment_method=PaymentMethod.SANDBOX
    )
    assert (order.kind, order.fulfilment) == (KIND, Fulfilment.NONE)
    assert (order.shipping_fee_fen, order.total_fen) == (0, 19900)
    assert order.recipient == ""
    assert order.pickup_point is None
    assert rules.calls == [("check_purchase", course_sku.pk)]


def test_cash_on_delivery_cart_and_mixed_orders_are_refused_for_non_goods(rules, shop, course_sku):
    member = UserFactory.create()
    with pytest.raises(PaymentMethodUnavailable) as cod:
        actions.create_order(member, sku_id=course_sku.pk, fulfilment="none", payment_method=PaymentMethod.COD)
    assert cod.value.message == "课程只能在线支付"
    with pytest.raises(InvalidInput) as cart:
        actions.add_to_cart(member, course_sku.pk)
    assert cart.value.code == "not_for_cart"
    goods = SkuFactory.create(product__shop=shop, stock=5)
    actions.add_to_cart(member, goods.pk)
    with pytest.raises(InvalidInput) as none_for_goods:
        actions.create_order(member, fulfilment="none", payment_method=PaymentMethod.SANDBOX)
    assert none_for_goods.value.code == "fulfilment_invalid"
    assert Order.objects.count() == 0


def test_the_kind_can_refuse_a_purchase_and_nothing_is_written(rules, shop, course_sku):
    rules.refuse_purchase = True
    with pytest.raises(SeatTaken):
        buy(UserFactory.create(), course_sku)
    course_sku.refresh_from_db()
    assert (Order.objects.count(), course_sku.stock) == (0, 50)


def test_payment_grants_once_and_completes_the_order(sandbox, commit, rules, shop, course_sku):
    order = pay(buy(UserFactory.create(), course_sku), commit)
    assert order.status == OrderStatus.COMPLETED
    assert rules.count("paid") == 1
    # The gateway repeats its notification; the order is paid and granted once.
    assert actions.mark_paid(order) is False
    assert rules.count("paid") == 1
    assert list(order.events.values_list("to_status", flat=True)) == [
        OrderStatus.PENDING_PAYMENT,
        OrderStatus.PAID,
        OrderStatus.COMPLETED,
    ]
    assert after_payment_url(order.number) == f"/landing/{order.number}/"


def test_a_grant_refused_after_payment_is_refunded_in_full_once(sandbox, commit, rules, shop, course_sku):
    rules.refuse_grant = "名额已满，已为你全额退款"
    order = pay(buy(UserFactory.create(), course_sku), commit)
    refund = RefundRequest.objects.get(order=order)
    assert refund.status == RefundStatus.REFUNDED
    assert refund.amount_fen == order.total_fen == order.refunded_fen == 19900
    assert refund.reason == "名额已满，已为你全额退款"
    assert GatewayRefund.objects.filter(payment__order=order).count() == 1
    assert Payment.objects.get(order=order).refunded_fen == 19900
    assert rules.count("refunded") == 1


def test_closing_an_unpaid_order_releases_the_kind(rules, shop, course_sku):
    order = buy(UserFactory.create(), course_sku)
    actions.cancel_order_by_member(order.user, order.number)
    line = order.lines.get()
    assert rules.calls[-1] == ("released", line.pk)
    course_sku.refresh_from_db()
    assert course_sku.stock == 50


def test_a_refund_approved_by_rule_needs_no_staff_and_pays_back_once(sandbox, commit, rules, shop, course_sku):
    rules.auto_approve = True
    order = pay(buy(UserFactory.create(), course_sku), commit)
    line = order.lines.get()
    with commit():
        refund = actions.request_refund(order.user, order.number, line.pk, amount_fen=19900, reason="不想学了")
    refund.refresh_from_db()
    order.refresh_from_db()
    assert refund.status == RefundStatus.REFUNDED
    assert refund.decided_by is None
    assert order.refunded_fen == 19900
    assert rules.calls[-1] == ("refunded", 19900)
    notes = list(OrderEvent.objects.filter(refund=refund).values_list("to_status", flat=True))
    assert notes == [RefundStatus.REQUESTED, RefundStatus.APPROVED, RefundStatus.REFUNDED]
    with pytest.raises(DomainError) as again:
        actions.request_refund(order.user, order.number, line.pk, amount_fen=1, reason="再退一次")
    assert again.value.code == "refund_amount_invalid"
    assert rules.count("refunded") == 1


def test_the_kind_decides_whether_a_line_may_be_refunded(sandbox, commit, rules, shop, course_sku):
    rules.refund_refusal_message = "开课超过 7 天，不支持退款"
    order = pay(buy(UserFactory.create(), course_sku), commit)
    with pytest.raises(InvalidInput) as refused:
        actions.request_refund(order.user, order.number, order.lines.get().pk, amount_fen=100, reason="不想学了")
    assert (refused.value.code, refused.value.message) == ("too_late", "开课超过 7 天，不支持退款")
    assert RefundRequest.objects.count() == 0


def test_a_staff_approved_refund_of_goods_still_goes_through_the_gateway_once(sandbox, commit, shop):
    goods = SkuFactory.create(product__shop=shop, price_fen=3500, stock=5)
    member = UserFactory.create()
    order = actions.create_order(
        member,
        sku_id=goods.pk,
        fulfilment="pickup",
        payment_method="sandbox",
        pickup_point_id=shop.pickup_points.create(name="门店", address="一号").pk,
    )
    pay(order, commit)
    assert order.status == OrderStatus.PAID  # goods wait for fulfilment
    refund = actions.request_refund(member, order.number, order.lines.get().pk, amount_fen=3500, reason="买错了")
    assert RefundRequest.objects.get(pk=refund.pk).status == RefundStatus.REQUESTED  # goods need staff
    assert GatewayRefund.objects.count() == 0


def test_the_member_returns_to_the_order_page_for_goods(shop):
    assert after_payment_url("NO-SUCH") == reverse("orders:order_detail", args=["NO-SUCH"])


def test_a_partial_automatic_refund_pays_back_that_amount_and_never_more_than_is_left(sandbox, commit, shop):
    goods = SkuFactory.create(product__shop=shop, price_fen=3500, stock=5)
    point = shop.pickup_points.create(name="团长自提点", address="一号楼")
    order = actions.create_order(
        UserFactory.create(), sku_id=goods.pk, quantity=2, fulfilment="pickup", payment_method="sandbox",
        pickup_point_id=point.pk,
    )  # fmt: skip
    pay(order, commit)
    line = order.lines.get()
    with commit(), transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        short = actions.refund_automatically(locked, line, "到货少一份，退回差价", amount_fen=3500)
    with commit(), transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        rest = actions.refund_automatically(locked, line, "再退", amount_fen=99999)
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        assert actions.refund_automatically(locked, line, "已退完") is None
    order.refresh_from_db()
    assert short is not None
    assert rest is not None
    assert (short.amount_fen, rest.amount_fen, order.refunded_fen) == (3500, 3500, 7000)
    assert GatewayRefund.objects.filter(payment__order=order, status="success").count() == 2
    assert Payment.objects.get(order=order).refunded_fen == 7000
