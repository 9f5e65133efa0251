"""Property: whatever partial refunds are asked, approved and delivered, money never exceeds the payment."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shequn.core.errors import DomainError
from shequn.orders.actions import request_refund
from shequn.orders.enums import RefundStatus
from shequn.orders.models import RefundRequest
from shequn.payments import actions
from shequn.payments.models import GatewayRefund, Payment
from shequn.payments.sandbox import server
from shequn.payments.sandbox.notify import release_held
from shequn.shops.enums import StaffRole
from shequn.testing.factories import ShopFactory, StaffFactory
from shequn.testing.payments import make_order


@pytest.mark.django_db
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    unit_price=st.integers(min_value=1, max_value=5000),
    quantity=st.integers(min_value=1, max_value=3),
    asks=st.lists(st.integers(min_value=1, max_value=16000), min_size=1, max_size=5),
    reverse=st.booleans(),
    duplicates=st.integers(min_value=0, max_value=2),
)
def test_refunds_never_exceed_the_payment(
    sandbox, django_capture_on_commit_callbacks, unit_price, quantity, asks, reverse, duplicates
):
    shop = ShopFactory.create()
    finance = StaffFactory.create(shop=shop, role=StaffRole.FINANCE).user
    order = make_order(shop=shop, price_fen=unit_price, quantity=quantity)
    with django_capture_on_commit_callbacks(execute=True):
        server.confirm(actions.start_payment(order, order.user).rstrip("/").rsplit("/", 1)[-1])
    line = order.lines.get()
    sandbox.hold = True
    for amount in asks:
        try:
            refund = request_refund(order.user, order.number, line.pk, amount_fen=amount, reason="测试")
        except DomainError:
            continue  # more than is left: refused up front
        with django_capture_on_commit_callbacks(execute=True):
            actions.approve_refund(shop, refund, finance)
    sandbox.hold = False
    with django_capture_on_commit_callbacks(execute=True):
        release_held(reverse=reverse, duplicates=duplicates)

    payment = Payment.objects.get(order=order)
    order.refresh_from_db()
    line.refresh_from_db()
    refunded = RefundRequest.objects.filter(order=order, status=RefundStatus.REFUNDED)
    total_refunded = sum(refunded.values_list("amount_fen", flat=True))
    assert payment.refunded_fen == order.refunded_fen == line.refunded_fen == total_refunded
    assert total_refunded <= payment.amount_fen == order.total_fen
    assert not RefundRequest.objects.filter(order=order, status=RefundStatus.APPROVED).exists()
    assert (
        GatewayRefund.objects.filter(payment=payment).count()
        == RefundRequest.objects.filter(order=order, status__in=[RefundStatus.REFUNDED, RefundStatus.FAILED]).count()
    )
