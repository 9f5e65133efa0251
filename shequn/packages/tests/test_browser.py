"""In Chromium (S10): a member buys the crayfish package (100 portions for ¥8,000) at the
ordinary checkout and sandbox cashier, lands on the package, redeems 3 portions in two orders
(delivery, then pickup); staff see the history at the counter; the member sends a second
package as a gift, and the friend who claims it fills their own address, which the buyer never sees."""

import pytest
from playwright.sync_api import expect

from shequn.catalog.models import Sku
from shequn.orders.enums import PaymentMethod
from shequn.orders.models import Order
from shequn.packages import actions
from shequn.packages.models import MemberPackage
from shequn.shops.enums import StaffRole
from shequn.testing.browser import DESKTOP
from shequn.testing.factories import AddressFactory, PickupPointFactory, StaffFactory, UserFactory
from shequn.testing.orders import make_shop, make_sku
from shequn.testing.payments import sandbox, sandbox_key_dir

__all__ = ["sandbox", "sandbox_key_dir"]

pytestmark = pytest.mark.django_db(transaction=True)


def pay_at_the_cashier(page):
    if "/sandbox-pay/" not in page.url:
        page.get_by_test_id("pay-button").click()
    page.get_by_test_id("pay-confirm").click()


def test_a_member_buys_redeems_3_portions_in_two_orders_and_gifts_a_package(signed_in_page, sandbox):
    shop = make_shop(slug="xiaolongxia", name="盱眙龙虾馆")
    crayfish = make_sku(shop, price_fen=8000, stock=500, title="麻辣小龙虾")
    operator = StaffFactory.create(shop=shop, role=StaffRole.OWNER).user
    PickupPointFactory.create(shop=shop, name="龙虾馆门店")
    plan = actions.do_save_plan(
        shop,
        actions.PlanInput(
            title="小龙虾 100 份套餐",
            item_sku_id=crayfish.pk,
            portions=100,
            price_fen=800_000,
            validity_days=365,
            stock=50,
        ),
        actor=operator,
    )
    member = UserFactory.create(nickname="老王")
    AddressFactory.create(user=member, recipient="王先生", detail="滨江区江南大道 1 号")

    page = signed_in_page(member)
    page.goto(f"/packages/{plan.pk}/")
    assert page.get_by_test_id("plan-price").inner_text() == "¥8,000.00"
    page.get_by_test_id("buy-package").click()
    page.wait_for_url("**/checkout/**")
    assert page.get_by_test_id("total-none").inner_text() == "¥8,000.00"
    page.get_by_test_id("submit-order").click()
    pay_at_the_cashier(page)
    page.wait_for_url("**/packages/mine/*/")
    expect(page.get_by_test_id("portions-left")).to_have_text("100")

    page.get_by_label("兑换份数").fill("2")
    page.get_by_label("快递配送").check()
    page.get_by_test_id("redeem").click()
    expect(page.get_by_test_id("portions-left")).to_have_text("98")
    page.get_by_label("兑换份数").fill("1")
    page.get_by_label("到店自提").check()
    page.get_by_label("自提点").select_option(label="龙虾馆门店")
    page.get_by_test_id("redeem").click()
    expect(page.get_by_test_id("portions-left")).to_have_text("97")
    expect(page.locator('[data-testid="entry"][data-kind="redeemed"]')).to_have_count(2)
    orders = Order.objects.filter(user=member, payment_method=PaymentMethod.PREPAID).order_by("pk")
    assert [(o.fulfilment, o.total_fen, o.lines.get().quantity) for o in orders] == [
        ("delivery", 0, 2),
        ("pickup", 0, 1),
    ]
    page.get_by_test_id("entry-order").first.click()
    expect(page.get_by_test_id("order-status")).to_have_attribute("data-status", "paid")

    console = signed_in_page(operator, **DESKTOP)
    package = MemberPackage.objects.get(owner=member)
    console.goto(f"/console/packages/held/{package.pk}/")
    expect(console.get_by_test_id("portions-left")).to_have_text("97")
    console.goto("/console/packages/liabilities/")
    expect(console.get_by_test_id("liability-total-value")).to_have_text("¥7,760.00")

    # A gift: the buyer pays, gets a claim link; the friend claims it and redeems to their own address.
    page.goto(f"/packages/{plan.pk}/")
    page.get_by_test_id("gift-message").fill("生日快乐！")
    page.get_by_test_id("buy-gift").click()
    pay_at_the_cashier(page)
    page.wait_for_url("**/gifts/")
    link = page.get_by_test_id("claim-link").input_value()
    assert "/gifts/claim/" in link

    friend = UserFactory.create(nickname="小李")
    secret = AddressFactory.create(user=friend, recipient="李小姐", detail="西湖区文三路 99 号")
    other = signed_in_page(friend)
    other.goto(link)
    expect(other.get_by_test_id("gift-message")).to_have_text("生日快乐！")
    other.get_by_test_id("claim-gift").click()
    other.wait_for_url("**/packages/mine/*/")
    other.get_by_label("兑换份数").fill("3")
    other.get_by_label("收货地址").select_option(value=str(secret.pk))
    other.get_by_test_id("redeem").click()
    expect(other.get_by_test_id("portions-left")).to_have_text("97")
    gifted = Order.objects.get(user=friend, payment_method=PaymentMethod.PREPAID)
    assert (gifted.address_detail, gifted.recipient) == ("西湖区文三路 99 号", "李小姐")

    page.goto("/gifts/")
    expect(page.get_by_test_id("gift-status")).to_have_text("已领取")
    sent = page.content()
    assert "小*" in page.get_by_test_id("gift-recipient").inner_text()
    for private in ("西湖区文三路", "李小姐", gifted.number):
        assert private not in sent
    assert Sku.objects.get(pk=crayfish.pk).stock == 500 - 6
