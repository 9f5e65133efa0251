"""Next-day delivery (S1, ADR 0006) in Chromium: the member picks a delivery slot at checkout,
buys and pays; the operator sees the slot on the order list, the order and the slot's pick list."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from shequn.orders.models import Order
from shequn.shops.models import DeliverySlot
from shequn.testing.browser import DESKTOP
from shequn.testing.orders import make_member, make_shop, make_sku, make_slot, make_staff
from shequn.testing.payments import sandbox, sandbox_key_dir

__all__ = ["sandbox", "sandbox_key_dir"]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_member_picks_a_slot_buys_and_the_console_shows_it(sandbox, signed_in_page) -> None:
    shop = make_shop(name="千岛湖鲜鱼农场", delivery_slots_required=True)
    sku = make_sku(shop, price_fen=3500, stock=10, title="挪威三文鱼礼盒")
    morning = make_slot(shop, days_ahead=2, starts_at="09:00", ends_at="12:00", capacity=50)
    make_slot(shop, days_ahead=2, starts_at="15:00", ends_at="18:00", capacity=1, booked=1)  # full: not offered
    member = make_member()
    operator = make_staff(shop, role="operator")

    page: Page = signed_in_page(member)
    page.goto(f"/checkout/?sku={sku.pk}&quantity=1")
    expect(page.get_by_test_id("slot-section")).to_contain_text("（快递配送必选）")
    options = page.get_by_test_id("slot-option")
    expect(options).to_have_count(1)
    expect(page.get_by_test_id("slot-section")).to_contain_text(morning.label)
    expect(page.get_by_test_id("slot-section")).to_contain_text("剩 50 单")

    # Forgetting the slot is refused with a clear message; then the member picks it.
    page.get_by_test_id("submit-order").click()
    expect(page.get_by_test_id("checkout-error")).to_have_attribute("data-code", "slot_required")
    expect(page.get_by_test_id("checkout-error")).to_have_text("请选择配送时段")
    page.get_by_test_id("slot-option").check()
    page.get_by_test_id("submit-order").click()
    expect(page.get_by_test_id("order-number")).to_be_visible()
    expect(page.get_by_test_id("order-slot")).to_have_text(morning.label)
    page.get_by_test_id("pay-button").click()
    page.get_by_test_id("pay-confirm").click()
    expect(page.get_by_test_id("order-status")).to_have_attribute("data-status", "paid")

    order = Order.objects.get(user=member)
    assert (order.delivery_slot_id, order.delivery_slot_label, order.total_fen) == (morning.pk, morning.label, 4500)
    assert DeliverySlot.objects.get(pk=morning.pk).booked == 1

    console: Any = signed_in_page(operator, **DESKTOP)
    console.goto("/console/orders/")
    console.get_by_test_id("slot-filter").select_option(label=f"{morning.label}（1/50）")
    console.get_by_role("button", name="筛选").click()
    row = console.get_by_test_id("console-order-row")
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("console-order-slot")).to_have_text(morning.label)
    console.get_by_role("link", name=order.number).click()
    expect(console.get_by_test_id("order-slot")).to_have_text(morning.label)

    console.goto("/console/fulfilment/slots/")
    console.locator(f'[data-slot-id="{morning.pk}"]').get_by_role("link", name="拣货单").click()
    expect(console.get_by_test_id("slot-label")).to_have_text(morning.label)
    expect(console.get_by_test_id("slot-pick-line")).to_have_count(1)
    expect(console.get_by_test_id("slot-pick-totals")).to_contain_text("挪威三文鱼礼盒")
