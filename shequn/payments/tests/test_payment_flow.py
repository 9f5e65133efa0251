"""Paying through the sandbox: notifications applied once, mismatches alerted, late payments never lost."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from shequn.catalog.models import Sku
from shequn.core.models import Alert
from shequn.notifications.models import Notification
from shequn.orders.actions import close_unpaid_order
from shequn.orders.enums import OrderStatus, PaymentMethod
from shequn.orders.errors import OrderNotFound
from shequn.orders.models import OrderEvent
from shequn.payments import actions
from shequn.payments.enums import GatewayRefundStatus, NotificationOutcome, PaymentStatus
from shequn.payments.errors import OrderAlreadyPaid, OrderNotPayable
from shequn.payments.models import GatewayNotification, GatewayRefund, Payment, SandboxTransaction
from shequn.payments.sandbox import notify, server
from shequn.payments.sandbox.notify import sign_headers
from shequn.testing.factories import UserFactory
from shequn.testing.payments import make_order, post_notification, run_scheduled_tasks, transaction_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run on-commit callbacks (and those they queue) as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def prepay_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def paid_events(order) -> int:
    return OrderEvent.objects.filter(order=order, to_status=OrderStatus.PAID).count()


def held_body(sandbox, order, commit) -> str:
    """Pay at the sandbox with delivery held back; returns the notification body WeChat would send."""
    sandbox.hold = True
    prepay_id = prepay_of(actions.start_payment(order, order.user))
    with commit():
        server.confirm(prepay_id)
    ((_, body),) = sandbox.held
    sandbox.held.clear()
    sandbox.hold = False
    return body


def test_member_pays_and_the_notification_marks_the_order_paid(sandbox, commit):
    order = make_order(price_fen=3500, quantity=2)
    url = actions.start_payment(order, order.user)
    assert url == f"/sandbox-pay/{prepay_of(url)}/"
    payment = Payment.objects.get(order=order)
    assert (payment.status, payment.amount_fen, payment.out_trade_no) == ("created", 7000, order.number)
    txn = SandboxTransaction.objects.get(prepay_id=payment.prepay_id)
    assert txn.amount_fen == 7000
    assert txn.trade_state == "NOTPAY"

    with commit():
        server.confirm(payment.prepay_id)

    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.transaction_id == SandboxTransaction.objects.get(pk=txn.pk).transaction_id
    notification = GatewayNotification.objects.get()
    assert (notification.event_type, notification.outcome, notification.deliveries) == (
        "TRANSACTION.SUCCESS",
        NotificationOutcome.APPLIED,
        1,
    )
    assert notification.resource["out_trade_no"] == order.number
    assert Notification.objects.filter(user=order.user, kind="order.paid").count() == 1


def test_start_payment_is_idempotent(sandbox):
    order = make_order()
    first = actions.start_payment(order, order.user)
    second = actions.start_payment(order, order.user)
    assert first == second
    assert Payment.objects.filter(order=order).count() == 1
    assert SandboxTransaction.objects.filter(out_trade_no=order.number).count() == 1


def test_start_payment_refuses_strangers_cod_and_paid_orders(sandbox, commit):
    order = make_order()
    with pytest.raises(OrderNotFound):
        actions.start_payment(order, UserFactory.create())
    cod = make_order(payment_method=PaymentMethod.COD)
    with pytest.raises(OrderNotPayable):
        actions.start_payment(cod, cod.user)
    with commit():
        server.confirm(prepay_of(actions.start_payment(order, order.user)))
    order.refresh_from_db()
    with pytest.raises(OrderAlreadyPaid):
        actions.start_payment(order, order.user)
    assert Payment.objects.count() == 1


def test_payment_failure_then_retry(sandbox, commit):
    order = make_order()
    prepay_id = prepay_of(actions.start_payment(order, order.user))
    server.fail(prepay_id)
    assert SandboxTransaction.objects.get(prepay_id=prepay_id).trade_state == "PAYERROR"
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert prepay_of(actions.start_payment(order, order.user)) == prepay_id
    with commit():
        server.confirm(prepay_id)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_same_notification_twenty_times_in_sequence(sandbox, commit):
    order = make_order()
    body = held_body(sandbox, order, commit)
    for _ in range(20):
        # WeChat signs each delivery afresh; the body (and its id) stays the same.
        assert post_notification(body, sign_headers(body)).status_code == 204
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert paid_events(order) == 1
    assert Payment.objects.filter(order=order).count() == 1
    notification = GatewayNotification.objects.get()
    assert notification.deliveries == 20
    assert notification.outcome == NotificationOutcome.APPLIED
    assert Notification.objects.filter(user=order.user, kind="order.paid").count() == 1


def test_sandbox_duplicates_are_absorbed(sandbox, commit):
    sandbox.duplicates = 4
    order = make_order()
    with commit():
        server.confirm(prepay_of(actions.start_payment(order, order.user)))
    assert GatewayNotification.objects.get().deliveries == 5
    assert paid_events(order) == 1


def test_delayed_delivery_arrives_later(sandbox, commit):
    sandbox.delay_seconds = 90
    order = make_order()
    with commit():
        server.confirm(prepay_of(actions.start_payment(order, order.user)))
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert len(HUEY.scheduled()) == 1
    assert run_scheduled_tasks() == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_failed_deliveries_are_retried_on_wechats_schedule(sandbox, commit, monkeypatch):
    real_post = notify.post
    answers = iter([503, 500, 0])  # server errors, then the server is unreachable, then it works

    def flaky_post(url, body, headers):
        status = next(answers, None)
        return real_post(url, body, headers) if status is None else status

    monkeypatch.setattr(notify, "post", flaky_post)
    order = make_order()
    with commit():
        server.confirm(prepay_of(actions.start_payment(order, order.user)))
    (retry,) = HUEY.scheduled()
    assert retry.args[2] == 1
    delay = (retry.eta - timezone.now().replace(tzinfo=None)).total_seconds()
    assert 13 <= delay <= 15
    attempts = []
    while HUEY.scheduled():
        (task,) = HUEY.scheduled()
        attempts.append(task.args[2])
        run_scheduled_tasks(rounds=1)
    assert attempts == [1, 2, 3]
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert notify.RETRY_SCHEDULE_SECONDS[:4] == (15, 15, 30, 180)


@pytest.mark.parametrize(
    "override",
    [
        {"amount": {"total": 1, "payer_total": 1, "currency": "CNY", "payer_currency": "CNY"}},
        {"mchid": "1900009999"},
        {"appid": "wx0000000000000other"},
    ],
)
def test_mismatch_changes_nothing_and_alerts(sandbox, commit, override):
    order = make_order(price_fen=3500)
    actions.start_payment(order, order.user)
    body = transaction_body(order.number, order.total_fen, **override)
    assert post_notification(body, sign_headers(body)).status_code == 204
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert Payment.objects.get(order=order).status == PaymentStatus.CREATED
    assert GatewayNotification.objects.get().outcome == NotificationOutcome.MISMATCH
    alert = Alert.objects.get()
    assert alert.kind == "payment.mismatch"
    assert order.number in alert.message


def test_notification_for_an_unknown_order_is_stored_and_alerted(sandbox):
    body = transaction_body("NOSUCHORDER0001", 100)
    assert post_notification(body, sign_headers(body)).status_code == 204
    assert GatewayNotification.objects.get().outcome == NotificationOutcome.MISMATCH
    assert Alert.objects.get().kind == "payment.unknown_transaction"


def test_reconciliation_picks_up_a_payment_whose_notification_never_came(sandbox, commit):
    order = make_order()
    held_body(sandbox, order, commit)  # paid at the gateway; the notification is lost
    assert actions.reconcile() == 0  # too fresh: the gateway gets a few minutes to notify
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        assert actions.reconcile() == 1
        assert actions.reconcile() == 0
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    row = GatewayNotification.objects.get()
    assert row.notification_id.startswith("query-")
    assert row.outcome == NotificationOutcome.APPLIED
    assert paid_events(order) == 1


def test_the_real_notification_after_reconciliation_changes_nothing(sandbox, commit):
    order = make_order()
    body = held_body(sandbox, order, commit)
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        actions.reconcile()
        assert post_notification(body, sign_headers(body)).status_code == 204
    assert paid_events(order) == 1
    late = GatewayNotification.objects.get(notification_id=json.loads(body)["id"])
    assert late.outcome == NotificationOutcome.IGNORED


def test_return_from_the_pay_page_queries_at_once(sandbox, commit):
    order = make_order()
    held_body(sandbox, order, commit)
    actions.sync_after_pay_page(order.number)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def close_after_expiry(order) -> None:
    with time_machine.travel(order.expires_at + timedelta(seconds=1)):
        assert close_unpaid_order(order.pk)
    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED


def test_late_payment_reinstates_the_order_when_stock_allows(sandbox, commit):
    order = make_order(stock=5, quantity=2)
    sku = Sku.objects.get(pk=order.lines.get().sku_id)
    prepay_id = prepay_of(actions.start_payment(order, order.user))
    close_after_expiry(order)
    sku.refresh_from_db()
    assert sku.stock == 5
    with commit():
        server.confirm(prepay_id)  # the member paid just as we closed
    order.refresh_from_db()
    sku.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert sku.stock == 3
    assert Payment.objects.get(order=order).status == PaymentStatus.SUCCEEDED
    assert Alert.objects.get().kind == "payment.late_reinstated"
    assert not GatewayRefund.objects.exists()


def test_late_payment_is_refunded_when_the_stock_is_gone(sandbox, commit):
    order = make_order(stock=2, quantity=2)
    prepay_id = prepay_of(actions.start_payment(order, order.user))
    close_after_expiry(order)
    Sku.objects.filter(pk=order.lines.get().sku_id).update(stock=0)  # sold to someone else meanwhile
    with commit():
        server.confirm(prepay_id)
    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED
    payment = Payment.objects.get(order=order)
    assert payment.status == PaymentStatus.SUCCEEDED
    refund = GatewayRefund.objects.get()
    assert refund.out_refund_no == f"LATE{order.number}"
    assert refund.status == GatewayRefundStatus.SUCCESS  # the sandbox refunded and notified
    assert payment.refunded_fen == order.total_fen
    assert set(Alert.objects.values_list("kind", flat=True)) == {"payment.late_refunded"}
    kinds = set(Notification.objects.filter(user=order.user).values_list("kind", flat=True))
    assert {"payment.refund_after_close", "payment.refunded"} <= kinds
    outcomes = sorted(GatewayNotification.objects.values_list("event_type", "outcome"))
    assert outcomes == [("REFUND.SUCCESS", "applied"), ("TRANSACTION.SUCCESS", "applied")]


def test_cancelled_order_paid_late_is_refunded(sandbox, commit):
    from shequn.orders.actions import cancel_order_by_member

    order = make_order()
    prepay_id = prepay_of(actions.start_payment(order, order.user))
    cancel_order_by_member(order.user, order.number)
    with commit():
        server.confirm(prepay_id)
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert GatewayRefund.objects.get().status == GatewayRefundStatus.SUCCESS
    assert Alert.objects.get().kind == "payment.late_refunded"


def test_close_gateway_payments_closes_the_sandbox_side(sandbox, commit):
    order = make_order()
    prepay_id = prepay_of(actions.start_payment(order, order.user))
    open_order = make_order()
    actions.start_payment(open_order, open_order.user)
    close_after_expiry(order)
    assert actions.close_gateway_payments() == 1
    assert actions.close_gateway_payments() == 0
    assert Payment.objects.get(order=order).status == PaymentStatus.CLOSED
    assert Payment.objects.get(order=open_order).status == PaymentStatus.CREATED
    assert SandboxTransaction.objects.get(prepay_id=prepay_id).trade_state == "CLOSED"
    with pytest.raises(server.SandboxError):
        server.confirm(prepay_id)


def test_close_finds_a_payment_made_meanwhile_and_takes_the_late_path(sandbox, commit):
    order = make_order()
    held_body(sandbox, order, commit)  # paid, notification not yet here
    close_after_expiry(order)
    assert actions.close_gateway_payments() == 0
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID  # reinstated from the query result
    assert Alert.objects.get().kind == "payment.late_reinstated"


def test_a_verified_notification_that_fails_to_apply_is_stored_and_retried(sandbox, commit, monkeypatch):
    from shequn.core.errors import InvalidTransition
    from shequn.orders import actions as order_actions

    order = make_order()
    body = held_body(sandbox, order, commit)
    real_mark_paid = order_actions.mark_paid

    def broken(*args, **kwargs):
        raise InvalidTransition("数据库暂时不可用")

    monkeypatch.setattr(order_actions, "mark_paid", broken)
    response = post_notification(body, sign_headers(body))
    assert response.status_code == 500
    assert response.json()["code"] == "FAIL"
    row = GatewayNotification.objects.get()
    assert row.outcome == NotificationOutcome.ERROR
    assert Payment.objects.get(order=order).status == PaymentStatus.CREATED  # rolled back with the failure

    monkeypatch.setattr(order_actions, "mark_paid", real_mark_paid)
    assert post_notification(body, sign_headers(body)).status_code == 204
    row.refresh_from_db()
    assert (row.outcome, row.deliveries) == (NotificationOutcome.APPLIED, 2)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
