"""Issue 17, "Done when" (member card): a member opens a card, buys, the points arrive after the
after-sales window and raise the level, and the new level's member price shows."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from shequn.orders import actions as order_actions
from shequn.orders.models import Order
from shequn.testing.browser import DESKTOP, buy_now_and_pay
from shequn.testing.orders import make_member, make_shop, make_sku, make_staff

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_member_opens_a_card_earns_points_after_the_window_and_gets_the_level_price(signed_in_page):
    shop = make_shop(name="千岛湖鲜鱼农场")
    sku = make_sku(shop, price_fen=12000, stock=10, title="三文鱼礼盒")
    operator = make_staff(shop, role="operator")
    member = make_member(nickname="阿甲")

    # The operator publishes the rules and two levels; 银卡 prices the gift box at ¥99.
    console = signed_in_page(operator, **DESKTOP)
    console.goto("/console/loyalty/")
    console.get_by_test_id("save-program").click()
    expect(console.get_by_text("会员卡规则已保存")).to_be_visible()
    for name, growth in (("普通会员", "0"), ("银卡", "100")):
        console.get_by_test_id("create-level").click()
        console.locator("[name=name]").fill(name)
        console.locator("[name=growth]").fill(growth)
        console.get_by_test_id("save-level").click()
        expect(console.get_by_text("等级已保存")).to_be_visible()
        console.goto("/console/loyalty/")
    console.get_by_test_id("level-row").filter(has_text="银卡").get_by_role("link").click()
    console.locator(f"[name=sku_{sku.pk}]").fill("99")
    console.get_by_test_id("save-level-prices").click()
    expect(console.get_by_text("已保存 1 个等级价")).to_be_visible()

    # The member opens a card for free: the first level, a QR for the counter.
    page = signed_in_page(member)
    page.goto(f"/s/{shop.slug}/card/")
    expect(page.get_by_test_id("card-rules")).to_contain_text("每实付 ¥1 得 1 积分")
    page.get_by_test_id("open-card").click()
    expect(page.get_by_test_id("card-level")).to_have_text("普通会员")
    expect(page.get_by_test_id("card-qr")).to_be_visible()
    expect(page.get_by_test_id("card-next")).to_contain_text("再消费 ¥100.00 升级为银卡")

    # Buys the box at ¥120: 120 points wait for the after-sales window.
    page.goto(f"/s/{shop.slug}/p/{sku.product.pk}/")
    buy_now_and_pay(page)
    page.goto(f"/s/{shop.slug}/card/")
    expect(page.get_by_test_id("card-pending-points")).to_have_text("120")
    expect(page.get_by_test_id("card-points")).to_have_text("0")
    expect(page.get_by_test_id("card-level")).to_have_text("普通会员")

    # Delivered; the window passes and the order completes itself.
    order = Order.objects.get(user=member)
    order_actions.ship_order(shop, order.pk, operator, tracking_company="顺丰速运", tracking_number="SF1")
    order_actions.mark_delivered(shop, order.pk, operator)
    later = timezone.now() + timedelta(days=settings.AFTER_SALES_WINDOW_DAYS, minutes=1)
    assert order_actions.auto_complete_orders(now=later) == 1

    page.reload()
    expect(page.get_by_test_id("card-points")).to_have_text("120")
    expect(page.get_by_test_id("card-pending-points")).to_have_text("0")
    expect(page.get_by_test_id("card-level")).to_have_text("银卡")
    expect(page.get_by_test_id("level-price")).to_contain_text("¥99.00")
    page.get_by_test_id("card-points").click()
    expect(page.get_by_test_id("points-entry").first).to_contain_text("售后期结束，积分入账")

    # The level's price is what checkout charges now.
    page.goto(f"/checkout/?sku={sku.pk}&quantity=1")
    expect(page.get_by_test_id("items-total")).to_have_text("¥99.00")
