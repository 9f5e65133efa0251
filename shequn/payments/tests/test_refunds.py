"""Refunds through the gateway: idempotent by number, completed exactly once, failures alerted."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from shequn.core.errors import InvalidTransition, NotFound, PermissionDenied
from shequn.core.models import Alert, AuditLog
from shequn.orders.actions import request_refund
from shequn.orders.enums import OrderStatus, PaymentMethod, RefundStatus
from shequn.orders.models import OrderEvent, RefundRequest
from shequn.payments import actions
from shequn.payments.enums import GatewayRefundStatus, NotificationOutcome
from shequn.payments.gateways.base import GatewayError
from shequn.payments.gateways.sandbox import sandbox_gateway
from shequn.payments.gateways.wechat_v3 import WechatPayV3Gateway
from shequn.payments.models import GatewayNotification, GatewayRefund, Payment, SandboxRefund
from shequn.payments.sandbox import server
from shequn.payments.sandbox.notify import build_body, release_held, sign_headers
from shequn.shops.enums import StaffRole
from shequn.testing.factories import ShopFactory, StaffFactory
from shequn.testing.payments import make_order, post_notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def shop(db):
    return ShopFactory.create()


@pytest.fixture
def finance(shop):
    return StaffFactory.create(shop=shop, role=StaffRole.FINANCE).user


def paid_order(shop, commit, *, quantity=2, price_fen=3500):
    order = make_order(shop=shop, price_fen=price_fen, quantity=quantity)
    url = actions.start_payment(order, order.user)
    with commit():
        server.confirm(url.rstrip("/").rsplit("/", 1)[-1])
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    return order


def ask_refund(order, amount_fen):
    return request_refund(order.user, order.number, order.lines.get().pk, amount_fen=amount_fen, reason="不新鲜")


def refunded_events(refund) -> int:
    return OrderEvent.objects.filter(refund=refund, to_status=RefundStatus.REFUNDED).count()


def test_approved_refund_goes_through_the_gateway_and_completes(sandbox, commit, shop, finance):
    order = paid_order(shop, commit)
    refund = ask_refund(order, 3500)
    with commit():
        actions.approve_refund(shop, refund, finance, "10.0.0.7")
    refund.refresh_from_db()
    order.refresh_from_db()
    assert refund.status == RefundStatus.REFUNDED
    assert order.refunded_fen == 3500
    gateway_refund = GatewayRefund.objects.get()
    assert gateway_refund.out_refund_no == refund.number
    assert gateway_refund.status == GatewayRefundStatus.SUCCESS
    assert gateway_refund.refund_id == SandboxRefund.objects.get().refund_id
    assert Payment.objects.get(order=order).refunded_fen == 3500
    audit = AuditLog.objects.get(action="refund.approve")
    assert (audit.actor, audit.shop, audit.ip, audit.object_id) == (finance, shop, "10.0.0.7", str(refund.pk))
    row = GatewayNotification.objects.get(event_type="REFUND.SUCCESS")
    assert row.outcome == NotificationOutcome.APPLIED


def test_refund_notification_delivered_twice_completes_once(sandbox, commit, shop, finance):
    order = paid_order(shop, commit)
    refund = ask_refund(order, 1000)
    sandbox.duplicates = 1
    with commit():
        actions.approve_refund(shop, refund, finance)
    assert GatewayNotification.objects.get(event_type="REFUND.SUCCESS").deliveries == 2
    assert refunded_events(refund) == 1
    order.refresh_from_db()
    assert order.refunded_fen == 1000
    assert Payment.objects.get(order=order).refunded_fen == 1000


def test_the_same_refund_number_refunds_once(sandbox, commit, shop, finance):
    order = paid_order(shop, commit)
    refund = ask_refund(order, 2000)
    sandbox.hold = True  # keep the refund result back so the request stays open at the gateway
    with commit():
        actions.approve_refund(shop, refund, finance)
    gateway_refund = GatewayRefund.objects.get()
    # Resubmitting (a retry after a timeout, reconciliation) and a direct repeat reach the same refund.
    GatewayRefund.objects.filter(pk=gateway_refund.pk).update(refund_id="")
    with commit():
        actions.submit_gateway_refund(gateway_refund.pk)
    repeat = sandbox_gateway().refund(
        out_trade_no=order.number,
        out_refund_no=refund.number,
        refund_fen=2000,
        total_fen=order.total_fen,
        reason="retry",
        notify_url="http://testserver/api/v1/payments/notify/sandbox",
    )
    assert SandboxRefund.objects.count() == 1
    assert repeat.refund_id == SandboxRefund.objects.get().refund_id
    # Approving again is refused by the refund's state machine; nothing new reaches the gateway.
    with pytest.raises(InvalidTransition):
        actions.approve_refund(shop, RefundRequest.objects.get(pk=refund.pk), finance)
    assert GatewayRefund.objects.count() == 1
    assert len(sandbox.held) == 1


@pytest.mark.parametrize("result", ["ABNORMAL", "CLOSED"])
def test_abnormal_or_closed_refund_fails_the_request_and_alerts(sandbox, commit, shop, finance, result):
    order = paid_order(shop, commit)
    refund = ask_refund(order, 3500)
    sandbox.refund_result = result
    with commit():
        actions.approve_refund(shop, refund, finance)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.FAILED
    assert GatewayRefund.objects.get().status == result.lower()
    assert GatewayNotification.objects.get(event_type=f"REFUND.{result}").outcome == NotificationOutcome.APPLIED
    assert Payment.objects.get(order=order).refunded_fen == 0
    assert Alert.objects.get().kind == "refund.failed"


def test_refund_notifications_out_of_order(sandbox, commit, shop, finance):
    """Two partial refunds whose results arrive newest first, each twice: both complete once."""
    order = paid_order(shop, commit, quantity=2)
    first = ask_refund(order, 1000)
    sandbox.hold = True
    with commit():
        actions.approve_refund(shop, first, finance)
    second = ask_refund(order, 1500)
    with commit():
        actions.approve_refund(shop, second, finance)
    assert len(sandbox.held) == 2
    sandbox.hold = False
    with commit():
        assert release_held(reverse=True, duplicates=1) == 2
    for refund in (first, second):
        refund.refresh_from_db()
        assert refund.status == RefundStatus.REFUNDED
        assert refunded_events(refund) == 1
    order.refresh_from_db()
    assert order.refunded_fen == 2500
    assert Payment.objects.get(order=order).refunded_fen == 2500


def test_a_stale_payment_notification_after_a_refund_changes_nothing(sandbox, commit, shop, finance):
    sandbox.hold = True
    order = make_order(shop=shop, quantity=2)
    url = actions.start_payment(order, order.user)
    with commit():
        server.confirm(url.rstrip("/").rsplit("/", 1)[-1])
    ((_, payment_body),) = sandbox.held
    sandbox.held.clear()
    sandbox.hold = False
    assert post_notification(payment_body, sign_headers(payment_body)).status_code == 204
    order.refresh_from_db()
    refund = ask_refund(order, 3500)
    with commit():
        actions.approve_refund(shop, refund, finance)
    # WeChat delivers the old payment notification once more, after the refund.
    assert post_notification(payment_body, sign_headers(payment_body)).status_code == 204
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.refunded_fen == 3500
    assert OrderEvent.objects.filter(order=order, to_status=OrderStatus.PAID).count() == 1


def test_refund_reconciliation_when_the_refund_notification_never_came(sandbox, commit, shop, finance):
    order = paid_order(shop, commit)
    refund = ask_refund(order, 3500)
    sandbox.hold = True
    with commit():
        actions.approve_refund(shop, refund, finance)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.APPROVED
    with time_machine.travel(timezone.now() + timedelta(minutes=6)), commit():
        assert actions.reconcile() == 1
    refund.refresh_from_db()
    assert refund.status == RefundStatus.REFUNDED
    assert refunded_events(refund) == 1


def test_refund_not_accepted_by_the_gateway_is_resubmitted_by_reconciliation(
    sandbox, commit, shop, finance, monkeypatch
):
    order = paid_order(shop, commit)
    refund = ask_refund(order, 3500)
    original = WechatPayV3Gateway.refund

    def unreachable(self, **kwargs):
        raise GatewayError("支付网关暂时无法连接")

    monkeypatch.setattr(WechatPayV3Gateway, "refund", unreachable)
    with commit():
        actions.approve_refund(shop, refund, finance)
    gateway_refund = GatewayRefund.objects.get()
    assert gateway_refund.status == GatewayRefundStatus.PROCESSING
    assert gateway_refund.refund_id == ""
    assert not SandboxRefund.objects.exists()

    monkeypatch.setattr(WechatPayV3Gateway, "refund", original)
    with time_machine.travel(timezone.now() + timedelta(minutes=6)), commit():
        actions.reconcile()
    refund.refresh_from_db()
    assert refund.status == RefundStatus.REFUNDED
    assert SandboxRefund.objects.get().out_refund_no == refund.number


def test_refund_decisions_need_the_permission_and_the_shop(sandbox, commit, shop):
    order = paid_order(shop, commit)
    refund = ask_refund(order, 3500)
    operator = StaffFactory.create(shop=shop, role=StaffRole.OPERATOR).user
    with pytest.raises(PermissionDenied):
        actions.approve_refund(shop, refund, operator)
    other_shop = ShopFactory.create()
    outsider = StaffFactory.create(shop=other_shop, role=StaffRole.OWNER).user
    with pytest.raises(NotFound):
        actions.approve_refund(other_shop, refund, outsider)
    with pytest.raises(NotFound):
        actions.approve_refund(shop, refund, outsider)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.REQUESTED
    assert not GatewayRefund.objects.exists()
    assert not AuditLog.objects.filter(action="refund.approve").exists()


def test_cod_refund_is_paid_back_in_cash_at_once(sandbox, commit, shop, finance):
    order = make_order(shop=shop, payment_method=PaymentMethod.COD, quantity=2)
    with commit():
        actions.confirm_cod_payment(shop, order, finance, "10.0.0.8")
    refund = ask_refund(order, 3500)
    with commit():
        actions.approve_refund(shop, refund, finance)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.REFUNDED
    gateway_refund = GatewayRefund.objects.get()
    assert gateway_refund.status == GatewayRefundStatus.SUCCESS
    assert gateway_refund.refund_id == f"cash-{refund.number}"
    assert Payment.objects.get(order=order).refunded_fen == 3500
    assert not SandboxRefund.objects.exists()


def test_a_refund_the_gateway_refuses_outright_fails_and_alerts(sandbox, commit, shop, finance):
    order = paid_order(shop, commit)
    refund = ask_refund(order, 3500)
    # Someone refunded this payment at the gateway by other means (the merchant platform): nothing is left.
    sandbox_gateway().refund(
        out_trade_no=order.number,
        out_refund_no="MANUAL1",
        refund_fen=order.total_fen,
        total_fen=order.total_fen,
        reason="商户平台手工退款",
        notify_url="http://testserver/nowhere",
    )
    with commit():
        actions.approve_refund(shop, refund, finance)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.FAILED
    assert GatewayRefund.objects.get().status == GatewayRefundStatus.CLOSED
    alert = Alert.objects.get(kind="refund.refused")
    assert alert.shop == shop
    assert alert.detail["gateway_code"] == "NOT_ENOUGH"
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        assert actions.reconcile() == 0
    assert SandboxRefund.objects.count() == 1


def test_refund_notification_with_another_amount_changes_nothing_and_alerts(sandbox, commit, shop, finance):
    order = paid_order(shop, commit)
    refund = ask_refund(order, 2000)
    sandbox.hold = True
    with commit():
        actions.approve_refund(shop, refund, finance)
    ((_, body),) = sandbox.held
    sandbox.held.clear()
    genuine = SandboxRefund.objects.get()
    forged_resource = server.refund_resource(genuine, for_notification=True)
    forged_resource["refund_status"] = "SUCCESS"
    forged_resource["amount"] = {**forged_resource["amount"], "refund": 3500, "payer_refund": 3500}
    forged = build_body(event_type="REFUND.SUCCESS", original_type="refund", resource=forged_resource)
    assert post_notification(forged, sign_headers(forged)).status_code == 204
    refund.refresh_from_db()
    assert refund.status == RefundStatus.APPROVED
    assert GatewayRefund.objects.get().status == GatewayRefundStatus.PROCESSING
    assert Alert.objects.get().kind == "refund.mismatch"
    # The genuine notification still completes it.
    assert post_notification(body, sign_headers(body)).status_code == 204
    refund.refresh_from_db()
    assert refund.status == RefundStatus.REFUNDED
    assert Payment.objects.get(order=order).refunded_fen == 2000
