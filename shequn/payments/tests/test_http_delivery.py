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


@pytest.mark.django_db(transaction=True)
def test_the_v3_client_talks_to_the_sandbox_over_http(sandbox, settings, live_server):
    """Only the host changes between the in-process sandbox and an HTTP API (as it will for WeChat)."""
    from shequn.payments.gateways.sandbox import certificate_cache, sandbox_gateway
    from shequn.payments.gateways.wechat_v3 import HttpTransport

    settings.SANDBOX_PAY_API_BASE = f"{live_server.url}/sandbox-pay"
    certificate_cache(str(settings.SANDBOX_PAY_KEY_DIR)).forget()
    gateway = sandbox_gateway()
    assert isinstance(gateway.transport, HttpTransport)
    prepay = gateway.create(out_trade_no="H20261122000001", amount_fen=123, description="鱼", notify_url="http://x/n")
    assert prepay.prepay_id.startswith("wx")
    server.confirm(prepay.prepay_id)
    paid = gateway.query("H20261122000001")
    assert (paid.trade_state, paid.amount_fen) == ("SUCCESS", 123)
    refund = gateway.refund(
        out_trade_no="H20261122000001",
        out_refund_no="HR1",
        refund_fen=23,
        total_fen=123,
        reason="",
        notify_url="http://x/n",
    )
    assert refund.status in {"PROCESSING", "SUCCESS"}
    assert gateway.query_refund("HR1").refund_id == refund.refund_id
