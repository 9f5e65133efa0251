"""The member's checkout and the operator's shipping, clicked through in Chromium."""

import pytest
from django.test import Client

from shequn.orders import actions
from shequn.orders.enums import OrderStatus
from shequn.orders.models import Order, RefundRequest
from shequn.testing.factories import PickupPointFactory
from shequn.testing.orders import make_member, make_shop, make_sku, make_staff

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(page, user, live_server):
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def test_cod_checkout_then_operator_ships_and_member_sees_it(new_page, live_server, tmp_path):
    shop = make_shop(shipping_fee_fen=1000, free_shipping_threshold_fen=9900)
    sku = make_sku(shop, price_fen=3500, stock=10, title="挪威三文鱼")
    member = make_member()
    operator = make_staff(shop, role="operator")

    member_page = new_page()
    sign_in(member_page, member, live_server)
    member_page.goto(f"/checkout/?sku={sku.pk}&quantity=2")
    assert member_page.get_by_test_id("items-total").inner_text() == "¥70.00"
    assert member_page.get_by_test_id("total-delivery").inner_text() == "¥80.00"
    member_page.get_by_test_id("pay-cod").check()
    member_page.get_by_test_id("buyer-note").fill("放门卫")
    member_page.screenshot(path=str(tmp_path / "checkout.png"), full_page=True)
    member_page.get_by_test_id("submit-order").click()
    member_page.wait_for_url("**/orders/*/")
    assert member_page.get_by_test_id("order-status").inner_text() == "待付款"
    order = Order.objects.get(user=member)
    assert (order.total_fen, order.payment_method, order.buyer_note) == (8000, "cod", "放门卫")

    console = new_page(viewport={"width": 1280, "height": 900}, is_mobile=False, has_touch=False)
    sign_in(console, operator, live_server)
    console.goto("/console/orders/")
    console.get_by_test_id("console-order-row").get_by_role("link").click()
    console.get_by_test_id("tracking-company").fill("顺丰速运")
    console.get_by_test_id("tracking-number").fill("SF1234567890")
    console.get_by_test_id("ship-button").click()
    console.wait_for_load_state()
    assert console.get_by_test_id("order-status").get_attribute("data-status") == OrderStatus.SHIPPED
    console.screenshot(path=str(tmp_path / "console-detail.png"), full_page=True)

    member_page.reload()
    assert member_page.get_by_test_id("order-status").inner_text() == "已发货"
    assert member_page.get_by_test_id("tracking-number").inner_text() == "SF1234567890"
    statuses = [item.get_attribute("data-status") for item in member_page.get_by_test_id("timeline-event").all()]
    assert statuses == [OrderStatus.PENDING_PAYMENT, OrderStatus.SHIPPED]
    member_page.screenshot(path=str(tmp_path / "member-detail.png"), full_page=True)


def test_cart_pickup_checkout_refund_request_and_rejection(new_page, live_server, tmp_path):
    shop = make_shop()
    sku = make_sku(shop, price_fen=2990, stock=5, title="三文鱼腩")
    PickupPointFactory.create(shop=shop, name="张江自提点")
    member = make_member()
    service = make_staff(shop, role="service")
    actions.add_to_cart(member, sku.pk, 2)

    member_page = new_page()
    sign_in(member_page, member, live_server)
    member_page.goto("/cart/")
    assert member_page.get_by_test_id("cart-subtotal").inner_text() == "¥59.80"
    member_page.screenshot(path=str(tmp_path / "cart.png"), full_page=True)
    member_page.get_by_test_id("cart-checkout").click()
    member_page.get_by_test_id("fulfilment-pickup").check()
    assert member_page.get_by_test_id("total-pickup").inner_text() == "¥59.80"
    member_page.get_by_test_id("submit-order").click()
    member_page.wait_for_url("**/orders/*/")
    assert member_page.get_by_test_id("pay-button").is_visible()
    order = Order.objects.get(user=member)
    assert order.pickup_point is not None
    assert order.pickup_point.name == "张江自提点"

    actions.mark_paid(order)  # the payments app does this when the sandbox notification arrives
    member_page.reload()
    assert member_page.get_by_test_id("order-status").inner_text() == "已付款"
    member_page.get_by_test_id("refund-button").click()
    member_page.get_by_test_id("refund-amount").fill("10.00")
    member_page.get_by_test_id("refund-reason").fill("少了一块")
    member_page.screenshot(path=str(tmp_path / "refund.png"), full_page=True)
    member_page.get_by_test_id("refund-submit").click()
    member_page.wait_for_url(f"**/orders/{order.number}/")
    assert member_page.get_by_test_id("refund-status").get_attribute("data-status") == "requested"

    console = new_page(viewport={"width": 1280, "height": 900}, is_mobile=False, has_touch=False)
    sign_in(console, service, live_server)
    console.goto("/console/refunds/")
    console.get_by_test_id("reject-reason").fill("称重无误")
    console.get_by_test_id("reject-refund-button").click()
    console.wait_for_load_state()
    assert console.get_by_test_id("refund-status").get_attribute("data-status") == "rejected"
    console.screenshot(path=str(tmp_path / "console-refunds.png"), full_page=True)
    refund = RefundRequest.objects.get()
    assert (refund.amount_fen, refund.status, refund.reject_reason) == (1000, "rejected", "称重无误")

    member_page.goto("/orders/")
    assert member_page.get_by_test_id("order-status").inner_text() == "已付款"
    member_page.screenshot(path=str(tmp_path / "my-orders.png"), full_page=True)
