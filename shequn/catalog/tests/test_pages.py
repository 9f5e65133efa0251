import pytest
from django.test import Client
from django.urls import reverse

from shequn.catalog import actions
from shequn.catalog.actions import SkuInput
from shequn.catalog.forms import MAX_PRICE_FEN
from shequn.catalog.models import Category, Product, Sku
from shequn.core.models import AuditLog
from shequn.shops.enums import StaffRole
from shequn.testing.catalog import image_upload, make_product
from shequn.testing.factories import ShopFactory, StaffFactory
from shequn.testing.money import keeps_typed_value, yuan_refusals

pytestmark = pytest.mark.django_db


# --- member pages --------------------------------------------------------------------


def test_shop_home_lists_on_shelf_products_only(shop):
    make_product(shop, "三文鱼刺身")
    make_product(shop, "下架的虾", on_shelf=False)
    response = Client().get(reverse("catalog:shop_home", args=[shop.slug]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "三文鱼刺身" in html
    assert "下架的虾" not in html


@pytest.mark.parametrize("query", ["sanwenyu", "swy", "三文鱼"])
def test_shop_home_search(shop, query):
    make_product(shop, "三文鱼刺身")
    make_product(shop, "北极甜虾")
    html = Client().get(reverse("catalog:shop_home", args=[shop.slug]), {"q": query}).content.decode()
    assert "三文鱼刺身" in html
    assert "北极甜虾" not in html


def test_shop_home_empty_states(shop):
    html = Client().get(reverse("catalog:shop_home", args=[shop.slug])).content.decode()
    assert 'data-testid="empty-state"' in html
    assert "店铺还没有上架商品" in html
    make_product(shop)
    html = Client().get(reverse("catalog:shop_home", args=[shop.slug]), {"q": "牛排"}).content.decode()
    assert "没有找到相关商品" in html


def test_shop_home_collections_categories_and_pagination(shop):
    category = actions.do_create_category(shop, "冰鲜鱼", actor=None)
    products = [make_product(shop, f"鱼{i}", category_id=category.pk) for i in range(25)]
    collection = actions.do_create_collection(shop, "本周上新", "new", actor=None)
    actions.do_set_collection_products(shop, collection, [products[3].pk], actor=None)
    url = reverse("catalog:shop_home", args=[shop.slug])
    html = Client().get(url).content.decode()
    assert "本周上新" in html
    assert 'data-testid="next-page"' in html
    assert "冰鲜鱼" in html
    page2 = Client().get(url, {"page": 2}).content.decode()
    assert page2.count('data-testid="product-tile"') == 5
    assert Client().get(url, {"category": category.pk}).status_code == 200


def test_shop_home_tiles_show_the_cheapest_active_price_the_cover_and_link_to_the_product(shop):
    fish = make_product(
        shop,
        "三文鱼刺身",
        returnable=False,
        skus=[
            SkuInput(spec="整条", price_fen=9900, stock=5),
            SkuInput(spec="500g", price_fen=3500, member_price_fen=3200, stock=3),
            SkuInput(spec="试吃装", price_fen=900, stock=9, is_active=False),
        ],
    )
    image = actions.do_add_image(shop, fish, image_upload(), actor=None)
    make_product(shop, "北极甜虾", skus=[SkuInput(spec="1kg", price_fen=6500, stock=9)])
    collection = actions.do_create_collection(shop, "本周上新", "new", actor=None)
    actions.do_set_collection_products(shop, collection, [fish.pk], actor=None)

    html = Client().get(reverse("catalog:shop_home", args=[shop.slug])).content.decode()

    tiles = html.split('data-testid="product-tile"')[1:]
    fish_tiles = [tile for tile in tiles if "三文鱼刺身" in tile]
    assert len(fish_tiles) == 2  # in the collection and in the full list
    for tile in fish_tiles:
        tile = tile.split("</li>")[0]
        assert f'href="{reverse("catalog:product_detail", args=[shop.slug, fish.pk])}"' in tile
        assert "¥35.00<small" in tile
        assert "起</small>" in tile
        assert "会员价 ¥32.00" in tile
        assert "¥9.00" not in tile  # the inactive SKU is not the price shown
        assert f'src="{image.thumbnail.url}"' in tile
        assert "生鲜" in tile
    shrimp = next(tile for tile in tiles if "北极甜虾" in tile).split("</li>")[0]
    assert "¥65.00</span>" in shrimp
    assert "起" not in shrimp
    assert "生鲜" not in shrimp
    assert '<span class="thumb" aria-hidden="true"></span>' in shrimp


def test_unknown_shop_is_404():
    assert Client().get(reverse("catalog:shop_home", args=["nope"])).status_code == 404


def test_product_page(shop):
    product = make_product(
        shop,
        "三文鱼刺身",
        per_person_cap=2,
        returnable=False,
        skus=[
            SkuInput(spec="500g", price_fen=3500, list_price_fen=4500, member_price_fen=3200, stock=3),
            SkuInput(spec="1斤", price_fen=3600, stock=50),
            SkuInput(spec="1kg", price_fen=6500, stock=0),
        ],
    )
    actions.do_add_image(shop, product, image_upload(), actor=None)
    response = Client().get(reverse("catalog:product_detail", args=[shop.slug, product.pk]), {"post": 7})
    assert response.status_code == 200
    html = response.content.decode()
    for text in ["¥35.00", "¥45.00", "会员价 ¥32.00", "仅剩3件", "有货", "已售罄", "每人限购 2 件"]:
        assert text in html, text
    assert "生鲜商品，不支持七天无理由退货" in html
    assert 'name="post_id" value="7"' in html
    assert 'name="sku_id"' in html
    assert 'name="quantity"' in html
    assert 'name="buy_now" value="1" formaction="/cart/add/?next=checkout"' in html
    assert 'action="/cart/add/"' in html
    assert "加入购物车" in html
    assert "立即购买" in html
    assert 'data-testid="product-images"' in html


def test_returnable_product_says_so(shop):
    product = make_product(shop, returnable=True)
    html = Client().get(reverse("catalog:product_detail", args=[shop.slug, product.pk])).content.decode()
    assert "支持七天无理由退货" in html
    assert "不支持七天无理由退货" not in html


def test_off_shelf_and_foreign_products_are_404_to_members(shop, other_shop):
    off = make_product(shop, on_shelf=False)
    foreign = make_product(other_shop)
    client = Client()
    assert client.get(reverse("catalog:product_detail", args=[shop.slug, off.pk])).status_code == 404
    assert client.get(reverse("catalog:product_detail", args=[shop.slug, foreign.pk])).status_code == 404


# --- console -------------------------------------------------------------------------


def test_console_product_list_filters(console_client, shop):
    make_product(shop, "三文鱼刺身")
    make_product(shop, "北极甜虾", on_shelf=False)
    url = reverse("catalog:console_products")
    html = console_client.get(url, {"q": "bjtx"}).content.decode()
    assert "北极甜虾" in html
    assert "三文鱼刺身" not in html
    html = console_client.get(url, {"shelf": "on"}).content.decode()
    assert "三文鱼刺身" in html
    assert "北极甜虾" not in html


def test_console_create_product_with_skus(console_client, shop, operator):
    category = actions.do_create_category(shop, "冰鲜鱼", actor=None)
    data = {
        "title": "三文鱼刺身",
        "subtitle": "挪威空运",
        "category": str(category.pk),
        "per_person_cap": "5",
        "position": "0",
        "on_shelf": "1",
        "sku-TOTAL_FORMS": "3",
        "sku-INITIAL_FORMS": "0",
        "sku-0-spec": "500g",
        "sku-0-price": "35.00",
        "sku-0-list_price": "45",
        "sku-0-member_price": "32.5",
        "sku-0-stock": "20",
        "sku-0-is_active": "on",
        "sku-1-spec": "1斤",
        "sku-1-price": "36",
        "sku-1-stock": "10",
        "sku-1-is_active": "on",
    }
    response = console_client.post(reverse("catalog:console_product_new"), data, REMOTE_ADDR="10.9.8.7")
    assert response.status_code == 302
    product = Product.objects.get(shop=shop)
    assert product.on_shelf
    assert not product.returnable  # the checkbox was left unticked
    assert product.title_initials == "swycs"
    assert sorted(product.skus.values_list("spec", "price_fen", "list_price_fen", "member_price_fen", "stock")) == [
        ("1斤", 3600, None, None, 10),
        ("500g", 3500, 4500, 3250, 20),
    ]
    entry = AuditLog.objects.get(action="product.create")
    assert (entry.actor, entry.shop, entry.ip) == (operator, shop, "10.9.8.7")


def test_console_form_shows_validation_messages(console_client, shop):
    data = {
        "title": "三文鱼刺身",
        "sku-TOTAL_FORMS": "1",
        "sku-INITIAL_FORMS": "0",
        "sku-0-spec": "500g",
        "sku-0-price": "35",
        "sku-0-member_price": "40",
        "sku-0-is_active": "on",
    }
    response = console_client.post(reverse("catalog:console_product_new"), data)
    assert response.status_code == 422
    assert "会员价不能高于售价" in response.content.decode()
    assert not Product.objects.exists()


def test_console_edit_and_stock_adjust(console_client, shop, operator):
    product = make_product(shop)
    sku = product.skus.get()
    url = reverse("catalog:console_product_edit", args=[product.pk])
    assert console_client.get(url).status_code == 200
    response = console_client.post(
        reverse("catalog:console_sku_stock", args=[sku.pk]), {"mode": "adjust", "value": "-30", "reason": "损耗"}
    )
    assert response.status_code == 302
    assert Sku.objects.get(pk=sku.pk).stock == 70
    console_client.post(reverse("catalog:console_sku_stock", args=[sku.pk]), {"mode": "set", "value": "12"})
    assert Sku.objects.get(pk=sku.pk).stock == 12
    assert AuditLog.objects.filter(action__in=["sku.stock_adjust", "sku.stock_set"], actor=operator).count() == 2


def test_console_image_upload(console_client, shop):
    product = make_product(shop)
    response = console_client.post(
        reverse("catalog:console_product_image_add", args=[product.pk]), {"image": image_upload("fish.jpg", fmt="JPEG")}
    )
    assert response.status_code == 302
    image = product.images.get()
    assert (image.thumbnail.name or "").endswith(".jpg")


def test_console_shelf_toggle_refuses_without_sku(console_client, shop):
    product = make_product(shop, skus=[], on_shelf=False)
    console_client.post(reverse("catalog:console_product_shelf", args=[product.pk]), {"on_shelf": "1"}, follow=True)
    product.refresh_from_db()
    assert not product.on_shelf


def test_console_categories_and_collections(console_client, shop):
    console_client.post(reverse("catalog:console_categories"), {"name": "冰鲜鱼", "position": "1"})
    category = Category.objects.get(shop=shop)
    console_client.post(reverse("catalog:console_category_edit", args=[category.pk]), {"name": "冷冻鱼"})
    category.refresh_from_db()
    assert category.name == "冷冻鱼"
    console_client.post(reverse("catalog:console_collection_create"), {"name": "本周上新", "slug": "new"})
    collection = shop.collections.get()
    product = make_product(shop)
    console_client.post(
        reverse("catalog:console_collection", args=[collection.pk]), {"op": "add", "product_id": product.pk}
    )
    assert list(collection.products.all()) == [product]
    html = console_client.get(reverse("catalog:console_categories")).content.decode()
    assert "冷冻鱼" in html
    assert "本周上新" in html


def test_console_tenant_isolation(other_console_client, shop):
    product = make_product(shop)
    sku = product.skus.get()
    category = actions.do_create_category(shop, "冰鲜鱼", actor=None)
    collection = actions.do_create_collection(shop, "热销", "hot", actor=None)
    image = actions.do_add_image(shop, product, image_upload(), actor=None)
    client = other_console_client
    gets = [
        reverse("catalog:console_product_edit", args=[product.pk]),
        reverse("catalog:console_collection", args=[collection.pk]),
    ]
    posts = [
        (reverse("catalog:console_product_edit", args=[product.pk]), {"title": "x"}),
        (reverse("catalog:console_product_shelf", args=[product.pk]), {"on_shelf": "0"}),
        (reverse("catalog:console_product_delete", args=[product.pk]), {}),
        (reverse("catalog:console_sku_stock", args=[sku.pk]), {"mode": "set", "value": "0"}),
        (reverse("catalog:console_product_image_add", args=[product.pk]), {}),
        (reverse("catalog:console_product_image_delete", args=[image.pk]), {}),
        (reverse("catalog:console_category_edit", args=[category.pk]), {"op": "delete"}),
        (reverse("catalog:console_collection", args=[collection.pk]), {"op": "delete"}),
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    product.refresh_from_db()
    assert product.on_shelf
    assert Sku.objects.get(pk=sku.pk).stock == 100
    assert Category.objects.filter(pk=category.pk).exists()
    html = client.get(reverse("catalog:console_products")).content.decode()
    assert product.title not in html


@pytest.mark.parametrize("role", [StaffRole.SERVICE, StaffRole.FINANCE])
def test_roles_without_catalog_permission_get_403(shop, role):
    user = StaffFactory.create(shop=shop, role=role).user
    client = Client()
    client.force_login(user)
    product = make_product(shop)
    assert client.get(reverse("catalog:console_products")).status_code == 403
    assert client.get(reverse("catalog:console_categories")).status_code == 403
    assert (
        client.post(reverse("catalog:console_product_shelf", args=[product.pk]), {"on_shelf": "0"}).status_code == 403
    )
    product.refresh_from_db()
    assert product.on_shelf


def test_console_requires_sign_in(shop):
    response = Client().get(reverse("catalog:console_products"))
    assert response.status_code == 302
    assert "/console/login/" in response["Location"]


def test_site_root_goes_to_the_only_shop_or_lists_them(client):
    assert "还没有店铺" in client.get("/").content.decode()
    first = ShopFactory.create(slug="farm", name="鲜鱼农场")
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/s/farm/"
    ShopFactory.create(slug="bakery", name="烘焙坊")
    page = client.get("/").content.decode()
    assert "鲜鱼农场" in page
    assert "烘焙坊" in page
    assert f"/s/{first.slug}/" in page


def _sku_row(html: str, name: str) -> str:
    """The table row holding the input ``name``: each SKU row shows its errors in its first cell."""
    at = html.index(f'name="{name}"')
    return html[html.rindex("<tr", 0, at) : html.index("</tr>", at)]


@pytest.mark.parametrize("field", ["price", "list_price", "member_price"])
@pytest.mark.parametrize(("typed", "message"), yuan_refusals(max_fen=MAX_PRICE_FEN))
def test_a_sku_price_that_cannot_be_read_is_an_error_in_its_row(console_client, shop, field, typed, message):
    data = {
        "title": "三文鱼刺身",
        "sku-TOTAL_FORMS": "1",
        "sku-INITIAL_FORMS": "0",
        "sku-0-spec": "500g",
        "sku-0-price": "35",
        "sku-0-is_active": "on",
        f"sku-0-{field}": typed,
    }
    response = console_client.post(reverse("catalog:console_product_new"), data)
    assert response.status_code == 422
    html = response.content.decode()
    assert message in _sku_row(html, f"sku-0-{field}")
    assert keeps_typed_value(html, f"sku-0-{field}", typed)
    assert 'value="三文鱼刺身"' in html
    assert not Product.objects.exists()


def test_sku_prices_in_yuan_are_saved_in_fen_and_shown_back(console_client, shop):
    data = {
        "title": "三文鱼刺身",
        "sku-TOTAL_FORMS": "1",
        "sku-INITIAL_FORMS": "0",
        "sku-0-spec": "500g",
        "sku-0-price": "35.90",
        "sku-0-list_price": "¥45",
        "sku-0-member_price": "３２．５",
        "sku-0-is_active": "on",
    }
    assert console_client.post(reverse("catalog:console_product_new"), data).status_code == 302
    product = Product.objects.get(shop=shop)
    sku = product.skus.get()
    assert (sku.price_fen, sku.list_price_fen, sku.member_price_fen) == (3590, 4500, 3250)
    html = console_client.get(reverse("catalog:console_product_edit", args=[product.pk])).content.decode()
    assert keeps_typed_value(html, "sku-0-price", "35.90")
    assert keeps_typed_value(html, "sku-0-member_price", "32.50")
