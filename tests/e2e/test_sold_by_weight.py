"""Sold by weight (S1, "35 ¥/斤", eaten the next day), clicked through in Chromium: a member
picks tomorrow's delivery slot, buys a whole fish at its estimated price and pays in the sandbox;
staff weigh it lighter in the console; the member sees the difference refunded on the order page."""

import pytest
from playwright.sync_api import expect

from shequn.orders.models import Order, RefundRequest
from shequn.payments.models import GatewayRefund
from shequn.testing.browser import DESKTOP, buy_now_and_pay
from shequn.testing.catalog import make_weighed_product
from shequn.testing.orders import make_member, make_shop, make_slot, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_lighter_fish_delivered_in_its_slot_is_refunded_the_difference(signed_in_page):
    shop = make_shop(name="千岛湖鲜鱼农场", delivery_slots_required=True)
    tomorrow = make_slot(shop, days_ahead=1, starts_at="09:00", ends_at="12:00", capacity=50)
    make_slot(shop, days_ahead=1, starts_at="15:00", ends_at="18:00", capacity=30)
    owner = make_staff(shop)
    product = make_weighed_product(shop, "整条鲈鱼")
    member = make_member(nickname="王阿姨")

    page = signed_in_page(member)
    page.goto(f"/s/{shop.slug}/p/{product.pk}/")
    expect(page.get_by_test_id("price")).to_have_text("¥42.00")
    expect(page.get_by_test_id("weight-pricing")).to_have_text("¥35.00/斤 · 约 1.2 斤/条 · 按实重多退少不补")
    buy_now_and_pay(page, delivery_slot=tomorrow.label)
    order = Order.objects.get(user=member)
    assert (order.items_total_fen, order.delivery_slot_id) == (4200, tomorrow.pk)
    expect(page.get_by_test_id("order-slot")).to_have_text(tomorrow.label)
    expect(page.get_by_test_id("line-weight")).to_contain_text("待称重，按实际重量多退少不补")

    console = signed_in_page(owner, **DESKTOP)
    console.goto(f"/console/orders/{order.pk}/")
    expect(console.get_by_test_id("order-slot")).to_have_text(tomorrow.label)
    expect(console.get_by_test_id("estimated-weight")).to_have_text("1.2 斤")
    console.get_by_test_id("actual-grams").fill("525")
    console.get_by_test_id("record-weight").click()
    expect(console.get_by_text("已记录「整条鲈鱼」实重 525 克")).to_be_visible()
    expect(console.get_by_test_id("actual-weight")).to_have_text("1.05 斤")
    expect(console.get_by_test_id("gateway-refund-status")).to_have_text("退款成功")

    page.reload()
    expect(page.get_by_test_id("actual-weight")).to_have_text("1.05 斤")
    expect(page.get_by_test_id("weight-difference")).to_have_text("¥5.25")
    expect(page.get_by_test_id("line-weight")).to_contain_text("已自动退款")
    expect(page.get_by_test_id("order-refunded")).to_have_text("¥5.25")
    expect(page.get_by_test_id("refund-row")).to_contain_text("称重差价退款：实重 1.05 斤，少 0.15 斤")
    expect(page.get_by_test_id("refund-status")).to_have_attribute("data-status", "refunded")

    # Weighing the same fish again in the console refunds nothing more.
    console.get_by_test_id("actual-grams").fill("525")
    console.get_by_test_id("record-weight").click()
    expect(console.get_by_text("已记录「整条鲈鱼」实重 525 克")).to_be_visible()
    refund = RefundRequest.objects.get(order=order)
    assert (refund.amount_fen, refund.status) == (525, "refunded")
    assert GatewayRefund.objects.filter(refund_request=refund, status="success").count() == 1
    order.refresh_from_db()
    assert order.refunded_fen == 525
