"""The community shop loop of issue 2, end to end in Chromium: member and operator side by side.

A new member joins a community through its invite link, opens a staff post, buys the product
on its card, pays (sandbox WeChat Pay, or cash on delivery), and follows the order; the
operator fulfils it in the console; the member asks for a refund, the operator approves it and
the refund notification arrives. Stock, totals and history are checked at every step.
"""

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from shequn.catalog.models import Sku
from shequn.communities.models import CommunityMembership
from shequn.core.models import AuditLog
from shequn.notifications.models import Notification
from shequn.orders.models import Order, OrderEvent, RefundRequest
from shequn.payments.models import GatewayNotification, GatewayRefund, Payment
from shequn.shops.enums import StaffRole
from shequn.testing.factories import (
    CommunityFactory,
    PickupPointFactory,
    PostFactory,
    ProductFactory,
    ShopFactory,
    SkuFactory,
    StaffFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STAFF_PASSWORD = "correct horse battery staple"
MEMBER_PHONE = "13912340001"


@pytest.fixture
def farm() -> dict[str, Any]:
    shop = ShopFactory(name="千岛湖鲜鱼农场", shipping_fee_fen=1000, free_shipping_threshold_fen=9900, cod_enabled=True)
    owner = StaffFactory(shop=shop, role=StaffRole.OWNER, user=UserFactory(username="boss", phone=None)).user
    community = CommunityFactory(shop=shop, name="三文鱼爱好者群", invite_code="salmon2026")
    product = ProductFactory(shop=shop, title="挪威三文鱼礼盒", returnable=True)
    sku = SkuFactory(product=product, spec="500g", price_fen=3500, stock=10)
    post = PostFactory(community=community, author=owner, body="今日现捕三文鱼，35 元一斤，明天送到！")
    post.products.add(product)
    pickup_point = PickupPointFactory(shop=shop, name="农场门店自提点")
    return {"shop": shop, "owner": owner, "community": community, "sku": sku, "post": post, "pickup": pickup_point}


def sign_in_member(page: Page, sms_outbox: Any, phone: str) -> None:
    expect(page.locator("#phone")).to_be_visible()
    page.locator("#phone").fill(phone)
    page.get_by_test_id("send-code").click()
    page.locator("#code").fill(sms_outbox.last_code(phone))
    page.get_by_test_id("sign-in").click()


def join_and_open_post(page: Page, sms_outbox: Any, farm: dict[str, Any]) -> None:
    """Invite link → sign in by SMS code → join → community feed → the staff post's product card."""
    page.goto(f"/c/join/{farm['community'].invite_code}/")
    expect(page.get_by_text("三文鱼爱好者群").first).to_be_visible()
    page.get_by_test_id("join-button").click()
    sign_in_member(page, sms_outbox, MEMBER_PHONE)
    page.get_by_test_id("join-button").click()
    expect(page.get_by_test_id("feed")).to_contain_text("今日现捕三文鱼")
    # The members' board, articles and the keyword service box are one tap away.
    for link in ("board-link", "articles-link", "service-box-link"):
        expect(page.get_by_test_id(link)).to_be_visible()
    assert CommunityMembership.objects.filter(community=farm["community"], user__phone=MEMBER_PHONE).exists()
    page.get_by_test_id("buy-link").first.click()
    expect(page.get_by_test_id("product-title")).to_have_text("挪威三文鱼礼盒")


def buy_now(page: Page) -> None:
    page.get_by_test_id("buy-now").click()
    expect(page.get_by_test_id("checkout-form")).to_be_visible()


def add_address_from_checkout(page: Page) -> None:
    page.get_by_test_id("add-address").click()
    page.locator("#recipient").fill("王小明")
    page.locator("#phone").fill("13912345678")
    page.locator("#province_code").select_option(label="浙江省")
    expect(page.locator("#city_code option", has_text="杭州市")).to_have_count(1)
    page.locator("#city_code").select_option(label="杭州市")
    expect(page.locator("#district_code option", has_text="西湖区")).to_have_count(1)
    page.locator("#district_code").select_option(label="西湖区")
    page.locator("#detail").fill("文三路 90 号 3 幢 502")
    page.get_by_role("button", name="保存").click()
    # Back at checkout (the address page honours ?next=) with the new address to choose.
    expect(page.get_by_test_id("checkout-form")).to_be_visible()
    page.get_by_test_id("address-option").first.check()


def submit_order(page: Page) -> Order:
    page.get_by_test_id("submit-order").click()
    expect(page.get_by_test_id("order-number")).to_be_visible()
    return Order.objects.get(number=page.get_by_test_id("order-number").inner_text())


def operator_page(new_page: Callable[..., Page]) -> Page:
    console = new_page(viewport={"width": 1280, "height": 900}, is_mobile=False, has_touch=False)
    console.goto("/console/login/")
    console.locator("#username").fill("boss")
    console.locator("#password").fill(STAFF_PASSWORD)
    console.get_by_role("button", name="登录").click()
    expect(console).to_have_url(f"{console.url.split('/console/')[0]}/console/")
    return console


def open_console_order(console: Page, order: Order) -> None:
    console.goto("/console/orders/")
    console.get_by_role("link", name=order.number).click()
    expect(console.get_by_test_id("order-status")).to_be_visible()


def expect_member_status(page: Page, order: Order, status: str) -> None:
    page.goto(f"/orders/{order.number}/")
    expect(page.get_by_test_id("order-status")).to_have_attribute("data-status", status)


def request_refund(page: Page, order: Order, amount_yuan: str, reason: str) -> RefundRequest:
    page.goto(f"/orders/{order.number}/")
    page.get_by_test_id("refund-button").first.click()
    page.get_by_test_id("refund-amount").fill(amount_yuan)
    page.get_by_test_id("refund-reason").fill(reason)
    page.get_by_test_id("refund-submit").click()
    expect(page.get_by_test_id("refund-status").first).to_have_attribute("data-status", "requested")
    return RefundRequest.objects.get(order=order)


def approve_refund_in_console(console: Page, order: Order) -> None:
    open_console_order(console, order)
    console.get_by_test_id("approve-refund-button").click()
    expect(console.get_by_test_id("refund-status").first).to_have_attribute("data-status", "refunded")


def inbox_titles(page: Page) -> list[str]:
    page.goto("/inbox/")
    return page.get_by_test_id("inbox-item").all_inner_texts()


def statuses(order: Order) -> list[str]:
    return list(OrderEvent.objects.filter(order=order, refund__isnull=True).values_list("to_status", flat=True))


def test_delivery_paid_online_shipped_then_refunded(page: Page, new_page, sms_outbox, farm) -> None:
    sku: Sku = farm["sku"]
    join_and_open_post(page, sms_outbox, farm)
    buy_now(page)
    add_address_from_checkout(page)
    expect(page.get_by_test_id("delivery-fee")).to_have_text("¥10.00")  # ¥35 is below the ¥99 free-shipping line
    order = submit_order(page)

    assert order.status == "pending_payment"
    assert order.fulfilment == "delivery"
    assert (order.items_total_fen, order.shipping_fee_fen, order.total_fen) == (3500, 1000, 4500)
    assert order.post_id == farm["post"].pk
    assert order.community_id == farm["community"].pk
    assert (order.province, order.city, order.district) == ("浙江省", "杭州市", "西湖区")
    sku.refresh_from_db()
    assert sku.stock == 9  # reserved at creation

    # Pay in the sandbox cashier; the signed notification marks the order paid.
    page.get_by_test_id("pay-button").click()
    expect(page.get_by_test_id("pay-amount")).to_contain_text("45.00")
    page.get_by_test_id("pay-confirm").click()
    expect(page.get_by_test_id("order-status")).to_have_attribute("data-status", "paid")
    order.refresh_from_db()
    assert order.paid_at is not None
    payment = Payment.objects.get(order=order)
    assert (payment.status, payment.amount_fen) == ("succeeded", 4500)
    assert GatewayNotification.objects.filter(event_type="TRANSACTION.SUCCESS", outcome="applied").count() == 1
    expect(page.get_by_test_id("unread-count")).to_be_visible()
    assert any("付款" in title or "支付" in title for title in inbox_titles(page))

    # The operator ships it from the console.
    console = operator_page(new_page)
    open_console_order(console, order)
    console.get_by_test_id("tracking-company").fill("顺丰速运")
    console.get_by_test_id("tracking-number").fill("SF1234567890")
    console.get_by_test_id("ship-button").click()
    expect(console.get_by_test_id("order-status")).to_have_attribute("data-status", "shipped")

    expect_member_status(page, order, "shipped")
    expect(page.get_by_test_id("tracking-number")).to_have_text("SF1234567890")

    # A partial refund on the returnable line, approved by the operator.
    refund = request_refund(page, order, "20.00", "鱼肉有一块不新鲜")
    assert refund.amount_fen == 2000
    approve_refund_in_console(console, order)
    expect(console.get_by_test_id("payment-status")).to_have_attribute("data-status", "succeeded")
    expect(console.get_by_test_id("gateway-refund-status")).to_have_text("退款成功")

    refund.refresh_from_db()
    order.refresh_from_db()
    assert refund.status == "refunded"
    assert order.refunded_fen == 2000
    assert order.status == "shipped"
    assert GatewayRefund.objects.get(refund_request=refund).status == "success"
    page.goto(f"/orders/{order.number}/")
    expect(page.get_by_test_id("order-refunded")).to_have_text("¥20.00")
    assert any("退款" in title for title in inbox_titles(page))
    sku.refresh_from_db()
    assert sku.stock == 9  # shipped goods do not return to stock on a refund
    assert statuses(order) == ["pending_payment", "paid", "shipped"]
    assert list(OrderEvent.objects.filter(refund=refund).values_list("to_status", flat=True)) == [
        "requested",
        "approved",
        "refunded",
    ]


def test_self_pickup_paid_online_then_refunded(page: Page, new_page, sms_outbox, farm) -> None:
    join_and_open_post(page, sms_outbox, farm)
    page.get_by_test_id("quantity").fill("2")
    buy_now(page)
    expect(page.get_by_test_id("pickup-section")).to_be_hidden()  # delivery is the default
    page.get_by_test_id("fulfilment-pickup").check()
    expect(page.get_by_test_id("address-section")).to_be_hidden()
    expect(page.get_by_test_id("total-pickup")).to_have_text("¥70.00")
    page.get_by_test_id("pickup-option").first.check()
    order = submit_order(page)
    assert order.fulfilment == "pickup"
    assert order.pickup_point_id == farm["pickup"].pk
    assert (order.items_total_fen, order.shipping_fee_fen, order.total_fen) == (7000, 0, 7000)
    farm["sku"].refresh_from_db()
    assert farm["sku"].stock == 8

    page.get_by_test_id("pay-button").click()
    page.get_by_test_id("pay-confirm").click()
    expect(page.get_by_test_id("order-status")).to_have_attribute("data-status", "paid")

    console = operator_page(new_page)
    open_console_order(console, order)
    console.get_by_test_id("ready-button").click()
    expect(console.get_by_test_id("order-status")).to_have_attribute("data-status", "ready_for_pickup")
    expect_member_status(page, order, "ready_for_pickup")
    console.get_by_test_id("picked-up-button").click()
    expect(console.get_by_test_id("order-status")).to_have_attribute("data-status", "picked_up")
    expect_member_status(page, order, "picked_up")

    request_refund(page, order, "35.00", "少了一盒")
    approve_refund_in_console(console, order)
    order.refresh_from_db()
    assert order.refunded_fen == 3500
    assert any("退款" in title for title in inbox_titles(page))
    assert statuses(order) == ["pending_payment", "paid", "ready_for_pickup", "picked_up"]


def test_cash_on_delivery_confirmed_by_staff_then_refunded(page: Page, new_page, sms_outbox, farm) -> None:
    join_and_open_post(page, sms_outbox, farm)
    buy_now(page)
    add_address_from_checkout(page)
    page.get_by_test_id("pay-cod").check()
    order = submit_order(page)
    assert order.payment_method == "cod"
    assert order.expires_at is None
    expect(page.get_by_test_id("pay-button")).to_have_count(0)
    farm["sku"].refresh_from_db()
    assert farm["sku"].stock == 9

    console = operator_page(new_page)
    open_console_order(console, order)
    console.get_by_test_id("tracking-company").fill("中通快递")
    console.get_by_test_id("tracking-number").fill("ZT998877")
    console.get_by_test_id("ship-button").click()
    expect(console.get_by_test_id("order-status")).to_have_attribute("data-status", "shipped")
    console.get_by_test_id("delivered-button").click()
    expect(console.get_by_test_id("order-status")).to_have_attribute("data-status", "delivered")
    assert not Payment.objects.filter(order=order, status="succeeded").exists()
    console.get_by_test_id("confirm-cod-button").click()
    expect(console.get_by_test_id("confirm-cod-button")).to_have_count(0)

    order.refresh_from_db()
    assert order.paid_at is not None
    assert order.status == "delivered"
    assert Payment.objects.get(order=order).gateway == "cod"
    assert AuditLog.objects.filter(shop=farm["shop"], actor=farm["owner"], object_id=str(order.pk)).exists()

    request_refund(page, order, "35.00", "不想要了")
    approve_refund_in_console(console, order)
    order.refresh_from_db()
    assert order.refunded_fen == 3500
    titles = inbox_titles(page)
    assert any("退款" in title for title in titles)
    assert Notification.objects.filter(user=order.user, kind__startswith="refund").exists()
