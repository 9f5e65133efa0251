"""Concurrent deliveries on PostgreSQL, where select_for_update really locks (SQLite serialises everything)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from shequn.orders.enums import OrderStatus
from shequn.orders.models import OrderEvent
from shequn.payments import actions
from shequn.payments.models import GatewayNotification, Payment
from shequn.payments.sandbox import server
from shequn.payments.sandbox.notify import sign_headers
from shequn.testing.payments import make_order, post_notification

THREADS = 20


def run_together(job, count: int = THREADS) -> list:
    barrier = threading.Barrier(count)

    def worker(index: int):
        try:
            barrier.wait(timeout=30)
            return job(index)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(worker, range(count)))


def paid_at_gateway_with_notification_held(sandbox):
    order = make_order()
    sandbox.hold = True
    prepay_id = actions.start_payment(order, order.user).rstrip("/").rsplit("/", 1)[-1]
    server.confirm(prepay_id)
    ((_, body),) = sandbox.held
    sandbox.held.clear()
    return order, body


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_same_notification_twenty_times_concurrently(sandbox):
    assert connection.vendor == "postgresql"
    order, body = paid_at_gateway_with_notification_held(sandbox)

    statuses = run_together(lambda _: post_notification(body, sign_headers(body)).status_code)

    assert statuses == [204] * THREADS
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert OrderEvent.objects.filter(order=order, to_status=OrderStatus.PAID).count() == 1
    assert Payment.objects.filter(order=order).count() == 1
    notification = GatewayNotification.objects.get()
    assert notification.deliveries == THREADS
    assert notification.outcome == "applied"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_notifications_racing_reconciliation_apply_once(sandbox):
    assert connection.vendor == "postgresql"
    order, body = paid_at_gateway_with_notification_held(sandbox)
    payment = Payment.objects.get(order=order)

    def job(index: int):
        if index % 2:
            return post_notification(body, sign_headers(body)).status_code
        actions.refresh_payment(Payment.objects.get(pk=payment.pk))
        return 204

    assert run_together(job) == [204] * THREADS
    assert OrderEvent.objects.filter(order=order, to_status=OrderStatus.PAID).count() == 1
    applied = GatewayNotification.objects.filter(outcome="applied")
    assert applied.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_notifications_for_an_unknown_order_store_one_row_and_one_alert(sandbox):
    from shequn.core.models import Alert
    from shequn.testing.payments import transaction_body

    assert connection.vendor == "postgresql"
    body = transaction_body("NOSUCHORDER0002", 100)

    statuses = run_together(lambda _: post_notification(body, sign_headers(body)).status_code)

    assert statuses == [204] * THREADS
    notification = GatewayNotification.objects.get()
    assert (notification.outcome, notification.deliveries) == ("mismatch", THREADS)
    assert Alert.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_pay_taps_open_one_payment(sandbox):
    from shequn.orders.models import Order
    from shequn.payments.models import SandboxTransaction

    assert connection.vendor == "postgresql"
    order = make_order()

    urls = run_together(lambda _: actions.start_payment(Order.objects.get(pk=order.pk), order.user), count=10)

    assert len(set(urls)) == 1
    assert Payment.objects.filter(order=order).count() == 1
    assert SandboxTransaction.objects.filter(out_trade_no=order.number).count() == 1
