"""Issue 15's onboarding loop, end to end in Chromium, next to the seeded demo shop.

A new person signs up by phone and SMS code, applies to open a shop (a wrong licence number is
refused with its reason, a right one passes), the demo's platform admin approves it, the new
owner follows the first-run guide (a community, a product, the payment set-up), a member signs in,
buys and pays in the sandbox. The platform suspends the shop: its pages and the API refuse new
orders with a clear message, an unpaid order cannot be paid but can be cancelled, and every row
is still there. Throughout, the new shop and the demo shop see nothing of each other.
"""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from PIL import Image
from playwright.sync_api import Page, expect

from shequn.accounts.models import User
from shequn.catalog.models import Product
from shequn.communities.models import Community
from shequn.demo import data
from shequn.demo.seed import demo_shop, seed
from shequn.merchants.models import MerchantApplication
from shequn.orders.models import Order
from shequn.payments.models import Payment
from shequn.shops.enums import ShopStatus
from shequn.shops.models import Shop, StaffMember
from shequn.testing.browser import DESKTOP, buy_now_and_pay
from shequn.testing.factories import AddressFactory
from shequn.testing.orders import auth_headers

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MERCHANT_PHONE = "13700001111"
MEMBER_PHONE = "13900002222"
BAD_LICENCE = "91350100M000100Y44"  # the check character should be 3
GOOD_LICENCE = "91350100M000100Y43"
SLUG = "hupan-fresh"


def sign_in_by_sms(page: Page, sms_outbox: Any, phone: str) -> None:
    expect(page.locator("#phone")).to_be_visible()
    page.locator("#phone").fill(phone)
    page.get_by_test_id("send-code").click()
    page.locator("#code").fill(sms_outbox.last_code(phone))
    page.get_by_test_id("sign-in").click()


def fill_application(page: Page, logo: str, licence: str) -> None:
    page.locator("#id_name").fill("湖畔鲜果")
    page.locator("#id_slug").fill(SLUG)
    page.locator("#id_category").select_option("fresh")
    page.locator("#id_logo").set_input_files(logo)
    page.locator("#id_business_subject").select_option("company")
    page.locator("#id_licence_number").fill(licence)
    page.get_by_role("button", name="提交申请").click()


def console_sign_in(page: Page, username: str, next_path: str) -> None:
    page.goto(f"/console/login/?next={next_path}")
    page.locator("#username").fill(username)
    page.locator("#password").fill(data.DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()


def guide_step(console: Page, label: str) -> None:
    console.goto("/console/")
    console.get_by_test_id("first-run-guide").get_by_role("link", name=label).click()


def _status(response: Any) -> int | None:
    return response.status if response is not None else None


def test_a_new_merchant_opens_a_shop_sells_is_suspended_and_stays_apart_from_the_demo(
    new_page: Callable[..., Page], sms_outbox: Any, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    logo = tmp_path / "logo.png"
    Image.new("RGB", (256, 256), (46, 139, 87)).save(logo)
    seed(with_images=False, with_orders=False, with_offers=False)
    demo = demo_shop()
    assert demo is not None
    demo_product = Product.objects.filter(shop=demo).order_by("pk").first()
    demo_community = Community.objects.filter(shop=demo).order_by("pk").first()
    assert demo_product is not None
    assert demo_community is not None

    # 1. A new person signs up by SMS code on the way to /open-shop/ and applies.
    merchant = new_page(**DESKTOP)
    merchant.goto("/open-shop/")
    sign_in_by_sms(merchant, sms_outbox, MERCHANT_PHONE)
    expect(merchant.locator("#id_name")).to_be_visible()
    fill_application(merchant, str(logo), BAD_LICENCE)
    expect(merchant.locator('[data-field="licence_number"]')).to_contain_text("校验位不正确")
    assert not MerchantApplication.objects.filter(slug=SLUG).exists()
    fill_application(merchant, str(logo), GOOD_LICENCE)
    expect(merchant.locator('[data-application-status="pending"]')).to_contain_text("湖畔鲜果")
    application = MerchantApplication.objects.get(slug=SLUG)
    assert (application.licence_number, application.business_subject) == (GOOD_LICENCE, "company")
    assert application.logo.name  # the uploaded logo was kept

    # 2. The platform admin approves it at /platform/applications/.
    platform = new_page(**DESKTOP)
    console_sign_in(platform, data.PLATFORM_USERNAME, "/platform/applications/")
    row = platform.locator(f'[data-application="{SLUG}"]')
    row.get_by_role("button", name="通过").click()
    expect(platform.locator(f'[data-application="{SLUG}"]')).to_contain_text("查看店铺")
    shop = Shop.objects.get(slug=SLUG)
    assert StaffMember.objects.get(shop=shop).user.phone == MERCHANT_PHONE

    # 3. The owner follows the first-run guide: a community, a product, the payment set-up.
    merchant.goto("/open-shop/")
    merchant.get_by_role("link", name="进入商家控制台").click()
    expect(merchant.get_by_test_id("first-run-guide").locator('li[data-done="0"]')).to_have_count(3)
    guide_step(merchant, "创建第一个社群")
    merchant.get_by_test_id("community-form").locator('input[name="name"]').fill("湖畔鲜果邻里群")
    merchant.get_by_test_id("community-form").get_by_role("button", name="创建").click()
    expect(merchant.get_by_text("已创建社群「湖畔鲜果邻里群」")).to_be_visible()
    guide_step(merchant, "上架第一件商品")
    merchant.locator("#id_title").fill("千岛湖水蜜桃")
    merchant.locator('input[name="sku-0-spec"]').fill("2斤装")
    merchant.locator('input[name="sku-0-price"]').fill("29.90")
    merchant.locator('input[name="sku-0-stock"]').fill("20")
    merchant.locator('input[name="on_shelf"]').check()
    merchant.get_by_test_id("save-product").click()
    expect(merchant.get_by_test_id("stock-panel")).to_be_visible()
    guide_step(merchant, "完成支付设置")
    expect(merchant.get_by_test_id("payment-setup")).to_contain_text("沙箱收银台")
    expect(merchant.get_by_test_id("merchant-setup-link")).to_be_visible()
    merchant.get_by_role("button", name="保存设置").click()
    merchant.goto("/console/")
    expect(merchant.get_by_test_id("first-run-guide")).to_have_count(0)  # every step done
    product = Product.objects.get(shop=shop)
    assert Community.objects.filter(shop=shop, name="湖畔鲜果邻里群").exists()

    # 4. A member signs in, buys there and pays in the sandbox; then leaves a second order unpaid.
    member = new_page()
    member.goto("/login/")
    sign_in_by_sms(member, sms_outbox, MEMBER_PHONE)
    expect(member.locator("#phone")).to_have_count(0)
    member_user = User.objects.get(phone=MEMBER_PHONE)
    AddressFactory.create(user=member_user, is_default=True)
    member.goto(f"/s/{SLUG}/p/{product.pk}/")
    expect(member.get_by_test_id("product-title")).to_have_text("千岛湖水蜜桃")
    buy_now_and_pay(member)
    paid = Order.objects.get(user=member_user, shop=shop)
    assert (paid.status, paid.total_fen) == ("paid", Payment.objects.get(order=paid).amount_fen)
    member.goto(f"/s/{SLUG}/p/{product.pk}/")
    member.get_by_test_id("buy-now").click()
    member.get_by_test_id("submit-order").click()
    expect(member.get_by_test_id("pay-button")).to_be_visible()
    unpaid = Order.objects.get(user=member_user, shop=shop, status="pending_payment")

    # 5. The platform suspends the shop.
    platform.goto(f"/platform/shops/{shop.pk}/")
    suspend = platform.locator('[data-move="suspend"]')
    suspend.locator('input[name="reason"]').fill("资质复核")
    suspend.get_by_role("button").click()
    expect(platform.locator(".status[data-status]")).to_have_attribute("data-status", "suspended")
    shop.refresh_from_db()
    assert shop.status == ShopStatus.SUSPENDED

    # The member sees a clear page refusing the order, and the API refuses too.
    member.goto(f"/s/{SLUG}/p/{product.pk}/")
    expect(member.locator('[data-error-code="shop_suspended"]')).to_contain_text("暂停营业")
    api = Client().post(
        "/api/v1/orders",
        {"sku_id": product.skus.get().pk, "quantity": 1, "fulfilment": "delivery", "payment_method": "sandbox",
         "address_id": member_user.addresses.get().pk},
        content_type="application/json",
        headers=auth_headers(member_user),
    )  # fmt: skip
    assert (api.status_code, api.json()["code"]) == (403, "shop_suspended")
    # The unpaid order cannot be paid now, says why, and can be cancelled.
    member.goto(f"/orders/{unpaid.number}/")
    expect(member.get_by_test_id("payment-paused")).to_contain_text("暂停营业")
    expect(member.get_by_test_id("pay-button")).to_have_count(0)
    paying = Client().post(f"/api/v1/payments/orders/{unpaid.number}/pay", headers=auth_headers(member_user))
    assert (paying.status_code, paying.json()["code"]) == (403, "shop_suspended")
    member.get_by_test_id("cancel-button").click()
    expect(member.get_by_test_id("order-status")).to_have_attribute("data-status", "cancelled")
    # The paid order is still the member's to see; nothing of the shop was lost.
    member.goto(f"/orders/{paid.number}/")
    expect(member.get_by_test_id("order-status")).to_have_attribute("data-status", "paid")
    assert Order.objects.filter(shop=shop).count() == 2
    assert Product.objects.filter(shop=shop).count() == 1
    assert Community.objects.filter(shop=shop).count() == 1
    merchant.goto("/console/orders/")
    expect(merchant.get_by_role("link", name=paid.number)).to_be_visible()

    # 6. The onboarded shop and the demo shop see nothing of each other (pages and API).
    for path in (f"/console/products/{demo_product.pk}/", f"/console/communities/{demo_community.pk}/"):
        assert _status(merchant.goto(path)) == 404, path
    operator = new_page(**DESKTOP)
    console_sign_in(operator, "operator", "/console/")
    expect(operator.get_by_text(data.DEMO_SHOP_NAME).first).to_be_visible()
    for path in (f"/console/products/{product.pk}/", f"/console/orders/{paid.pk}/"):
        assert _status(operator.goto(path)) == 404, path
    owner = User.objects.get(phone=MERCHANT_PHONE)
    owner_api = Client(headers=auth_headers(owner))
    assert owner_api.get(f"/api/v1/catalog/console/products/{demo_product.pk}").status_code == 404
    demo_operator = User.objects.get(username="operator")
    operator_api = Client(headers=auth_headers(demo_operator))
    assert operator_api.get(f"/api/v1/catalog/console/products/{product.pk}").status_code == 404
    assert operator_api.get(f"/api/v1/orders/console/orders/{paid.pk}").status_code == 404
