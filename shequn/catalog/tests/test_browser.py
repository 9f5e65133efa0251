"""In Chromium: an operator creates a product with two SKUs in the console, uploads a photo,
puts it on shelf; a visitor finds it by pinyin and sees it on the product page."""

import os

import pytest
from django.conf import settings
from django.test import Client

from shequn.catalog.models import Product
from shequn.shops.enums import StaffRole
from shequn.testing.factories import ShopFactory, StaffFactory

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOTS = os.environ.get("SHEQUN_SCREENSHOTS")


def shot(page, name):
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


def test_operator_creates_a_product_and_members_find_it(new_page, live_server, tmp_path):
    from PIL import Image

    shop = ShopFactory.create(slug="qiandao", name="千岛湖鲜鱼农场")
    operator = StaffFactory.create(shop=shop, role=StaffRole.OPERATOR).user
    client = Client()
    client.force_login(operator)
    console = new_page(viewport={"width": 1280, "height": 900}, is_mobile=False)
    console.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    console.goto("/console/products/new/")
    console.get_by_label("商品名称").fill("三文鱼刺身")
    console.get_by_label("每人限购（件，留空不限）").fill("3")
    console.locator('input[name="sku-0-spec"]').fill("500g")
    console.locator('input[name="sku-0-price"]').fill("35")
    console.locator('input[name="sku-0-member_price"]').fill("40")  # above the price: refused
    console.locator('input[name="sku-0-stock"]').fill("20")
    console.locator('input[name="sku-1-spec"]').fill("1kg")
    console.locator('input[name="sku-1-price"]').fill("65.5")
    console.locator('input[name="sku-1-stock"]').fill("5")
    console.get_by_test_id("save-product").click()
    assert "会员价不能高于售价" in console.get_by_test_id("form-errors").inner_text()
    console.locator('input[name="sku-0-member_price"]').fill("32")
    console.get_by_test_id("save-product").click()
    console.get_by_text("已创建商品").wait_for()
    product = Product.objects.get(shop=shop)
    assert sorted(product.skus.values_list("spec", "price_fen", "stock")) == [("1kg", 6550, 5), ("500g", 3500, 20)]

    photo = tmp_path / "salmon.jpg"
    Image.new("RGB", (1000, 1000), (250, 128, 114)).save(photo, format="JPEG")
    console.get_by_label("图片").set_input_files(str(photo))
    console.get_by_role("button", name="上传").click()
    console.get_by_text("图片已上传").wait_for()
    console.get_by_test_id("shelf-on").click()
    console.get_by_text("已上架").first.wait_for()
    shot(console, "console-product")
    product.refresh_from_db()
    assert product.on_shelf
    assert product.images.get().thumbnail

    page = new_page()
    page.goto(f"/s/{shop.slug}/?q=sanwenyu")
    page.get_by_test_id("product-title").first.click()
    page.get_by_test_id("buy-form").wait_for()
    labels = page.get_by_test_id("stock-label").all_inner_texts()
    assert labels == ["有货", "仅剩5件"]
    assert page.get_by_test_id("cap-note").inner_text() == "每人限购 3 件"
