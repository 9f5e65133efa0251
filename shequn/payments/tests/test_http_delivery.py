"""The sandbox's default delivery: a real HTTP POST (httpx) to our callback on a running server."""

import pytest

from shequn.orders.enums import OrderStatus
from shequn.payments import actions
from shequn.payments.models import GatewayNotification
from shequn.payments.sandbox import notify, server
from shequn.testing.payments import NOTIFY_PATH, make_order


@pytest.mark.django_db(transaction=True)
def test_notification_is_posted_over_http(sandbox, settings, live_server):
    settings.SANDBOX_PAY_DELIVERY = "http"
    settings.PAYMENT_NOTIFY_URL = f"{live_server.url}{NOTIFY_PATH}"
    order = make_order()
    prepay_id = actions.start_payment(order, order.user).rstrip("/").rsplit("/", 1)[-1]
    server.confirm(prepay_id)  # commits; Huey (immediate under pytest) posts with httpx
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert GatewayNotification.objects.get().outcome == "applied"


def test_unreachable_callback_counts_as_a_failed_delivery(settings):
    settings.SANDBOX_PAY_DELIVERY = "http"
    assert notify.post("http://127.0.0.1:9/nowhere", "{}", {}) == 0
