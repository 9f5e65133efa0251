import pytest
from django.test import Client

from shequn.catalog import actions
from shequn.catalog.models import Product, Sku
from shequn.core.models import AuditLog
from shequn.shops.enums import StaffRole
from shequn.testing.catalog import api_token_for, make_product
from shequn.testing.factories import StaffFactory

pytestmark = pytest.mark.django_db

BASE = "/api/v1/catalog"


@pytest.fixture
def api(operator):
    return Client(headers=api_token_for(operator))


@pytest.fixture
def other_api(other_operator):
    return Client(headers=api_token_for(other_operator))


def test_public_product_list_search_and_pagination(shop):
    make_product(shop, "三文鱼刺身")
    make_product(shop, "北极甜虾")
    make_product(shop, "下架鱼", on_shelf=False)
    client = Client()
    body = client.get(f"{BASE}/shops/{shop.slug}/products").json()
    assert body["count"] == 2
    assert {item["title"] for item in body["items"]} == {"三文鱼刺身", "北极甜虾"}
    for query in ["sanwenyu", "swy", "三文鱼"]:
        body = client.get(f"{BASE}/shops/{shop.slug}/products", {"q": query}).json()
        assert [item["title"] for item in body["items"]] == ["三文鱼刺身"], query
    body = client.get(f"{BASE}/shops/{shop.slug}/products", {"page": 2, "page_size": 1}).json()
    assert (body["count"], body["page"], body["page_size"], len(body["items"])) == (2, 2, 1, 1)


def test_public_product_detail(shop):
    product = make_product(shop, returnable=False)
    body = Client().get(f"{BASE}/shops/{shop.slug}/products/{product.pk}").json()
    assert body["returnable_note"] == "生鲜商品，不支持七天无理由退货"
    assert body["skus"][0] == {
        "id": product.skus.get().pk,
        "spec": "500g",
        "price_fen": 3500,
        "list_price_fen": 4500,
        "member_price_fen": 3200,
        "stock_label": "有货",
        "in_stock": True,
        "pricing": "piece",
        "weight_price_fen": None,
        "estimated_grams": None,
    }
    off = make_product(shop, on_shelf=False)
    response = Client().get(f"{BASE}/shops/{shop.slug}/products/{off.pk}")
    assert response.status_code == 404
    assert response.json()["code"] == "product_not_found"


def test_public_categories_and_collections(shop):
    actions.do_create_category(shop, "冰鲜鱼", actor=None)
    product = make_product(shop)
    collection = actions.do_create_collection(shop, "热销", "hot", actor=None)
    actions.do_set_collection_products(shop, collection, [product.pk], actor=None)
    assert [c["name"] for c in Client().get(f"{BASE}/shops/{shop.slug}/categories").json()] == ["冰鲜鱼"]
    assert Client().get(f"{BASE}/shops/{shop.slug}/collections").json()[0]["product_ids"] == [product.pk]


def test_console_crud(api, shop, operator):
    created = api.post(
        f"{BASE}/console/products",
        {
            "title": "三文鱼刺身",
            "returnable": False,
            "on_shelf": True,
            "skus": [{"spec": "500g", "price_fen": 3500, "member_price_fen": 3200, "stock": 10}],
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["title_pinyin"] == "sanwenyucishen"
    assert body["on_shelf"]
    sku_id = body["skus"][0]["id"]
    product_id = body["id"]

    listed = api.get(f"{BASE}/console/products", {"q": "swy"}).json()
    assert [item["id"] for item in listed["items"]] == [product_id]

    updated = api.put(
        f"{BASE}/console/products/{product_id}",
        {"title": "三文鱼刺身", "skus": [{"id": sku_id, "spec": "1斤", "price_fen": 3600}]},
        content_type="application/json",
    )
    assert updated.status_code == 200
    assert updated.json()["skus"][0]["spec"] == "1斤"
    assert updated.json()["skus"][0]["stock"] == 10

    stock = api.post(f"{BASE}/console/skus/{sku_id}/stock", {"delta": -4}, content_type="application/json")
    assert stock.json()["stock"] == 6
    stock = api.post(f"{BASE}/console/skus/{sku_id}/stock", {"set_to": 50}, content_type="application/json")
    assert stock.json()["stock"] == 50
    bad = api.post(f"{BASE}/console/skus/{sku_id}/stock", {"delta": -51}, content_type="application/json")
    assert bad.status_code == 422
    assert bad.json()["code"] == "insufficient_stock"
    # Adding past what the stock column holds is refused, not a database error (PostgreSQL: 500).
    too_many = api.post(
        f"{BASE}/console/skus/{sku_id}/stock", {"delta": 2_147_483_600}, content_type="application/json"
    )
    assert (too_many.status_code, too_many.json()["code"]) == (422, "stock_too_large")
    assert api.get(f"{BASE}/console/products/{product_id}").json()["skus"][0]["stock"] == 50

    shelf = api.post(
        f"{BASE}/console/products/{product_id}/shelf", {"on_shelf": False}, content_type="application/json"
    )
    assert shelf.json()["on_shelf"] is False
    assert api.delete(f"{BASE}/console/products/{product_id}").status_code == 204
    assert not Product.objects.filter(pk=product_id).exists()
    assert set(AuditLog.objects.filter(actor=operator).values_list("action", flat=True)) >= {
        "product.create",
        "product.update",
        "sku.stock_adjust",
        "sku.stock_set",
        "product.shelf_off",
        "product.delete",
    }


def test_console_validation_errors_are_json(api):
    response = api.post(
        f"{BASE}/console/products",
        {"title": "虾", "skus": [{"spec": "1斤", "price_fen": 100, "list_price_fen": 90}]},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["code"] == "list_price_below_price"
    assert "划线价不能低于售价" in response.json()["message"]
    response = api.post(f"{BASE}/console/products", {"title": "虾", "on_shelf": True}, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["code"] == "no_active_sku"


def test_console_categories_and_collections(api, shop):
    category = api.post(f"{BASE}/console/categories", {"name": "冰鲜鱼"}, content_type="application/json").json()
    renamed = api.put(
        f"{BASE}/console/categories/{category['id']}",
        {"name": "冷冻鱼", "position": 2},
        content_type="application/json",
    )
    assert renamed.json()["name"] == "冷冻鱼"
    a, b = make_product(shop, "甲"), make_product(shop, "乙")
    collection = api.post(
        f"{BASE}/console/collections", {"name": "本周上新", "slug": "new"}, content_type="application/json"
    ).json()
    ordered = api.put(
        f"{BASE}/console/collections/{collection['id']}/products",
        {"product_ids": [b.pk, a.pk]},
        content_type="application/json",
    )
    assert ordered.json()["product_ids"] == [b.pk, a.pk]
    assert api.delete(f"{BASE}/console/categories/{category['id']}").status_code == 204


def test_console_tenant_isolation(other_api, shop):
    product = make_product(shop)
    sku = product.skus.get()
    category = actions.do_create_category(shop, "冰鲜鱼", actor=None)
    collection = actions.do_create_collection(shop, "热销", "hot", actor=None)
    json = "application/json"
    calls = [
        other_api.get(f"{BASE}/console/products/{product.pk}"),
        other_api.put(f"{BASE}/console/products/{product.pk}", {"title": "x"}, content_type=json),
        other_api.delete(f"{BASE}/console/products/{product.pk}"),
        other_api.post(f"{BASE}/console/products/{product.pk}/shelf", {"on_shelf": False}, content_type=json),
        other_api.post(f"{BASE}/console/skus/{sku.pk}/stock", {"set_to": 0}, content_type=json),
        other_api.put(f"{BASE}/console/categories/{category.pk}", {"name": "x"}, content_type=json),
        other_api.delete(f"{BASE}/console/categories/{category.pk}"),
        other_api.put(f"{BASE}/console/collections/{collection.pk}", {"name": "x", "slug": "x"}, content_type=json),
        other_api.delete(f"{BASE}/console/collections/{collection.pk}"),
    ]
    assert [response.status_code for response in calls] == [404] * len(calls)
    assert other_api.get(f"{BASE}/console/products").json()["count"] == 0
    # Naming the foreign shop in X-Shop does not help either.
    assert other_api.get(f"{BASE}/console/products/{product.pk}", headers={"X-Shop": shop.slug}).status_code == 404
    # Nor can the other shop put our product in its collection.
    their_collection = other_api.post(
        f"{BASE}/console/collections", {"name": "热销", "slug": "hot"}, content_type=json
    ).json()
    response = other_api.put(
        f"{BASE}/console/collections/{their_collection['id']}/products",
        {"product_ids": [product.pk]},
        content_type=json,
    )
    assert response.status_code == 404
    assert Sku.objects.get(pk=sku.pk).stock == 100


def test_console_api_needs_permission_and_auth(shop):
    service = StaffFactory.create(shop=shop, role=StaffRole.SERVICE).user
    response = Client(headers=api_token_for(service)).get(f"{BASE}/console/products")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert Client().get(f"{BASE}/console/products").status_code == 401


def test_staff_of_two_shops_choose_with_x_shop(shop, other_shop, operator):
    StaffFactory.create(shop=other_shop, user=operator, role=StaffRole.OWNER)
    make_product(other_shop, "别家的鱼")
    client = Client(headers=api_token_for(operator))
    response = client.get(f"{BASE}/console/products")
    assert response.status_code == 422
    assert response.json()["code"] == "shop_required"
    body = client.get(f"{BASE}/console/products", headers={"X-Shop": other_shop.slug}).json()
    assert [item["title"] for item in body["items"]] == ["别家的鱼"]


def test_every_catalog_route_declares_errors():
    schema = Client().get("/api/v1/openapi.json").json()
    for path, operations in schema["paths"].items():
        if not path.startswith(("/api/v1/catalog", "/api/v1/communities")):
            continue
        for method, operation in operations.items():
            codes = {int(code) for code in operation["responses"]}
            assert any(code >= 400 for code in codes), (method, path)


def test_console_image_upload_and_foreign_delete(api, other_api, shop):
    from shequn.testing.catalog import image_upload

    product = make_product(shop)
    response = api.post(f"{BASE}/console/products/{product.pk}/images", {"image": image_upload()})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["thumbnail_url"].endswith(".jpg")
    assert other_api.delete(f"{BASE}/console/images/{body['id']}").status_code == 404
    assert other_api.post(f"{BASE}/console/products/{product.pk}/images", {"image": image_upload()}).status_code == 404
    assert api.delete(f"{BASE}/console/images/{body['id']}").status_code == 204
    assert not product.images.exists()
