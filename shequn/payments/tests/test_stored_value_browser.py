"""Issue 17 (stored value) in Chromium: a member tops up ¥1,000 with a ¥100 bonus, pays an order
with balance + sandbox WeChat Pay, refunds it and sees each source back."""

import pytest
from playwright.sync_api import expect

from shequn.orders.models import Order, RefundRequest
from shequn.payments import actions as payment_actions
from shequn.payments.models import GatewayRefund, Payment
from shequn.storedvalue import selectors
from shequn.testing.orders import make_member, make_shop, make_sku, make_staff
from shequn.testing.storedvalue import make_plan

pytestmark = pytest.mark.django_db(transaction=True)


def test_top_up_with_bonus_pay_with_balance_and_wechat_pay_then_refund_to_each_source(signed_in_page, tmp_path):
    shop = make_shop()
    plan = make_plan(shop, principal_fen=100_000, bonus_fen=10_000)
    fish = make_sku(shop, price_fen=150_000, stock=5, title="小龙虾宴")
    staff = make_staff(shop)
    member = make_member()

    page = signed_in_page(member)
    page.goto("/me/")
    page.get_by_test_id("stored-value-link").click()
    plan_row = page.locator(f'[data-testid="top-up-plan"][data-plan-id="{plan.pk}"]')
    expect(plan_row).to_contain_text("充¥1,000.00送¥100.00")
    plan_row.get_by_test_id("top-up").click()
    page.get_by_test_id("submit-order").click()
    expect(page.get_by_test_id("order-number")).to_be_visible()
    expect(page.get_by_test_id("use-balance")).to_have_count(0)  # a top-up is never paid from a balance
    page.get_by_test_id("pay-button").click()
    page.get_by_test_id("pay-confirm").click()
    page.wait_for_url("**/stored-value/")  # a paid top-up lands on the balance
    expect(page.get_by_test_id("principal")).to_have_text("¥1,000.00")
    expect(page.get_by_test_id("bonus")).to_have_text("¥100.00")
    expect(page.get_by_test_id("usable")).to_contain_text("¥1,100.00")
    page.screenshot(path=str(tmp_path / "topped-up.png"), full_page=True)

    page.goto(f"/s/{shop.slug}/p/{fish.product_id}/")
    page.get_by_test_id("buy-now").click()
    page.get_by_test_id("submit-order").click()
    expect(page.get_by_test_id("order-number")).to_be_visible()
    expect(page.get_by_test_id("use-balance-option")).to_contain_text("先用余额 ¥1,100.00，其余微信支付")
    expect(page.get_by_test_id("use-balance")).to_be_checked()
    page.get_by_test_id("pay-button").click()
    expect(page.get_by_test_id("pay-amount")).to_contain_text("400.00")  # the sandbox cashier: the rest only
    page.get_by_test_id("pay-confirm").click()
    expect(page.get_by_test_id("order-status")).to_have_attribute("data-status", "paid")
    expect(page.get_by_test_id("order-balance-paid")).to_have_text("¥1,100.00")
    order = Order.objects.get(user=member, kind="goods")
    assert Payment.objects.get(order=order).amount_fen == 40_000
    assert selectors.member_balances(shop, member).usable_fen == 0

    line = order.lines.get()
    page.locator(f'[data-testid="order-line"][data-line="{line.pk}"]').get_by_test_id("refund-button").click()
    page.get_by_test_id("refund-reason").fill("活动取消")
    page.get_by_test_id("refund-submit").click()
    page.wait_for_url(f"**/orders/{order.number}/")
    payment_actions.approve_refund(shop, RefundRequest.objects.get(order=order), staff)

    page.reload()
    expect(page.get_by_test_id("order-balance-returned")).to_have_text("¥1,100.00")
    expect(page.get_by_test_id("order-refunded")).to_have_text("¥1,500.00")
    page.goto("/stored-value/")
    expect(page.get_by_test_id("principal")).to_have_text("¥1,000.00")
    expect(page.get_by_test_id("bonus")).to_have_text("¥100.00")
    page.screenshot(path=str(tmp_path / "refunded-to-balance.png"), full_page=True)
    assert GatewayRefund.objects.get(payment__order=order).amount_fen == 40_000  # WeChat Pay's share back there
    order.refresh_from_db()
    assert order.refunded_fen == 150_000
    assert selectors.books_balance(shop) == []
