"""In Chromium: the member pays in the sandbox cashier (a failed try, then success) and sees it in the inbox."""

import os

import pytest

from shequn.orders.enums import OrderStatus
from shequn.payments.models import GatewayNotification
from shequn.testing.factories import ShopFactory
from shequn.testing.payments import make_order

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOTS = os.environ.get("SHEQUN_SCREENSHOTS")


def shot(page, name):
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


def test_member_pays_in_the_sandbox_cashier(signed_in_page, sandbox):
    shop = ShopFactory.create(name="千岛湖鲜鱼农场")
    order = make_order(shop=shop, price_fen=4990)
    page = signed_in_page(order.user)

    page.goto(f"/orders/{order.number}/")
    page.get_by_test_id("pay-button").click()
    page.wait_for_url("**/sandbox-pay/**")
    assert page.get_by_test_id("pay-amount").inner_text() == "¥49.90"
    assert page.get_by_test_id("pay-merchant").inner_text() == "千岛湖鲜鱼农场"
    shot(page, "sandbox-pay")
    page.get_by_test_id("pay-fail").click()
    page.wait_for_url(f"**/orders/{order.number}/")
    assert page.get_by_test_id("order-status").get_attribute("data-status") == OrderStatus.PENDING_PAYMENT

    page.get_by_test_id("pay-button").click()
    page.wait_for_url("**/sandbox-pay/**")
    page.get_by_test_id("pay-confirm").click()
    page.wait_for_url(f"**/orders/{order.number}/")
    assert page.get_by_test_id("order-status").get_attribute("data-status") == OrderStatus.PAID
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert GatewayNotification.objects.filter(event_type="TRANSACTION.SUCCESS", outcome="applied").count() == 1

    page.goto("/inbox/")
    paid = page.locator('[data-testid="inbox-item"][data-kind="order.paid"]')
    assert paid.count() == 1
    assert paid.get_attribute("data-unread") == "1"
    shot(page, "inbox")
    page.get_by_test_id("mark-all-read").click()
    assert page.locator('[data-testid="inbox-item"][data-unread="1"]').count() == 0
