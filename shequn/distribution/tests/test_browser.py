"""Clicked through in Chromium: member A becomes a promoter for free and shares a product link;
B opens it, buys and pays in the sandbox cashier; A sees frozen commission, and once the
after-sales window has passed and the settle task ran, available commission."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from shequn.distribution import actions, tasks
from shequn.distribution.models import Binding, PromoterLevel
from shequn.orders import actions as order_actions
from shequn.orders.models import Order
from shequn.testing.browser import DESKTOP, buy_now_and_pay
from shequn.testing.factories import ProductFactory, SkuFactory
from shequn.testing.orders import make_member, make_shop, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_shared_link_earns_frozen_then_available_commission(signed_in_page):
    shop = make_shop(name="千岛湖鲜鱼农场")
    owner = make_staff(shop)
    actions.do_update_settings(owner, shop, {"auto_approve": True})
    actions.do_save_rule(owner, shop, {"scope": "shop", "kind": "percent", "tier1_value": 1000})
    product = ProductFactory.create(shop=shop, title="挪威三文鱼礼盒", returnable=True)
    SkuFactory.create(product=product, spec="500g", price_fen=3500, stock=10)
    a, b = make_member(nickname="阿甲"), make_member(nickname="阿乙")

    promoter_page = signed_in_page(a)
    promoter_page.goto(f"/promoter/?shop={shop.slug}")
    promoter_page.get_by_test_id("apply-button").click()
    expect(promoter_page.get_by_test_id("promoter-status")).to_have_text("已通过")
    links = promoter_page.get_by_test_id("share-link")
    expect(links).to_have_count(2)
    product_link = links.nth(1).input_value()
    assert product_link.endswith(f"?to=%2Fs%2F{shop.slug}%2Fp%2F{product.pk}%2F")

    buyer_page = signed_in_page(b)
    buyer_page.goto(product_link)
    expect(buyer_page.get_by_test_id("buy-now")).to_be_visible()
    assert Binding.objects.get(customer=b).promoter.user == a
    buy_now_and_pay(buyer_page)

    promoter_page.goto("/promoter/")
    expect(promoter_page.get_by_test_id("frozen")).to_have_text("¥3.50")  # 10% of ¥35.00 (not the shipping)
    expect(promoter_page.get_by_test_id("available")).to_have_text("¥0.00")

    order = Order.objects.get(user=b)
    order_actions.ship_order(shop, order.pk, owner, tracking_company="顺丰速运", tracking_number="SF1")
    order_actions.mark_delivered(shop, order.pk, owner)
    later = timezone.now() + timedelta(days=settings.AFTER_SALES_WINDOW_DAYS + 1)
    assert order_actions.auto_complete_orders(now=later) == 1
    assert tasks.settle_commissions.call_local() == 1

    promoter_page.reload()
    expect(promoter_page.get_by_test_id("frozen")).to_have_text("¥0.00")
    expect(promoter_page.get_by_test_id("available")).to_have_text("¥3.50")


def test_the_operator_adds_and_edits_a_level_in_the_console(signed_in_page):
    shop = make_shop(name="千岛湖鲜鱼农场")
    operator = make_staff(shop, role="operator")
    console = signed_in_page(operator, **DESKTOP)
    console.goto("/console/distribution/")
    expect(console.get_by_test_id("levels-note")).to_contain_text("自己")
    console.get_by_test_id("new-level-name").fill("银牌")
    console.get_by_test_id("new-level-threshold").fill("500")
    console.get_by_test_id("new-level-extra").fill("1.5")
    console.get_by_test_id("add-level").click()
    expect(console.get_by_text("推广员等级「银牌」已保存")).to_be_visible()
    expect(console.get_by_test_id("level-threshold")).to_have_text("¥500.00")
    expect(console.get_by_test_id("level-extra")).to_have_value("1.5")

    # The same threshold again is refused; the row's own form edits the name and the points.
    console.get_by_test_id("new-level-name").fill("重复")
    console.get_by_test_id("new-level-threshold").fill("500.00")
    console.get_by_test_id("new-level-extra").fill("2")
    console.get_by_test_id("add-level").click()
    expect(console.get_by_text("销售门槛 ¥500.00 已有等级「银牌」，请在列表中修改它")).to_be_visible()
    console.get_by_test_id("level-name").fill("白银")
    console.get_by_test_id("level-extra").fill("2.25")
    console.get_by_test_id("level-save").click()
    expect(console.get_by_text("推广员等级「白银」已保存")).to_be_visible()
    expect(console.get_by_test_id("level-row")).to_have_count(1)
    assert list(PromoterLevel.objects.filter(shop=shop).values_list("name", "min_sales_fen", "extra_bp")) == [
        ("白银", 50_000, 225)
    ]
