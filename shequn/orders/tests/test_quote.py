"""The checkout quote (POST /api/v1/orders/quote), the cart and the order agree: one pricing."""

import re

import pytest
from django.test import Client

from shequn.catalog.models import Sku
from shequn.orders.models import Order
from shequn.testing.factories import MembershipFactory, PickupPointFactory
from shequn.testing.orders import auth_headers, make_member, make_shop, make_sku

pytestmark = pytest.mark.django_db

API = "/api/v1/orders"

# Figures a quote and the order it predicts both carry.
SHARED_FIELDS = (
    "shop_slug",
    "kind",
    "fulfilment",
    "payment_method",
    "items_total_fen",
    "shipping_fee_fen",
    "total_fen",
)
SHARED_LINE_FIELDS = ("sku_id", "product_id", "title", "spec", "unit_price_fen", "quantity", "total_fen", "returnable")


@pytest.fixture
def client():
    return Client()


@pytest.fixture
def farm():
    """A shop with a member price on one of two SKUs: ¥10 delivery, free from ¥99."""
    shop = make_shop(shipping_fee_fen=1000, free_shipping_threshold_fen=9900, cod_enabled=True)
    salmon = make_sku(shop, price_fen=3500, stock=20, title="三文鱼")
    Sku.objects.filter(pk=salmon.pk).update(member_price_fen=2900)
    shrimp = make_sku(shop, price_fen=1200, stock=20, title="基围虾")
    return {"shop": shop, "salmon": Sku.objects.get(pk=salmon.pk), "shrimp": shrimp}


def shop_member(farm):
    member = make_member()
    MembershipFactory.create(user=member, community__shop=farm["shop"])
    return member


def fill_cart(client, headers, farm):
    for sku, quantity in ((farm["salmon"], 2), (farm["shrimp"], 1)):
        response = client.post(
            f"{API}/cart", {"sku_id": sku.pk, "quantity": quantity}, content_type="application/json", headers=headers
        )
        assert response.status_code == 201, response.content


def fen_on_page(html: str, testid: str) -> int:
    match = re.search(rf'data-testid="{testid}">¥([\d,]+)\.(\d\d)<', html)
    assert match, f"{testid} not on the page"
    return int(match.group(1).replace(",", "")) * 100 + int(match.group(2))


def test_cart_subtotal_is_what_checkout_charges_a_member(client, farm):
    member = shop_member(farm)
    headers = auth_headers(member)
    fill_cart(client, headers, farm)
    point = PickupPointFactory.create(shop=farm["shop"])

    [group] = client.get(f"{API}/cart", headers=headers).json()
    salmon_line, shrimp_line = group["items"]
    assert (salmon_line["unit_price_fen"], salmon_line["member_price"], salmon_line["total_fen"]) == (2900, True, 5800)
    assert (shrimp_line["unit_price_fen"], shrimp_line["member_price"]) == (1200, False)
    assert group["subtotal_fen"] == 2 * 2900 + 1200 == 7000

    # The cart page shows the same subtotal, and the member price on the line it applies to.
    client.force_login(member)
    cart_page = client.get("/cart/").content.decode()
    assert fen_on_page(cart_page, "cart-subtotal") == 7000
    assert cart_page.count('data-testid="cart-member-price"') == 1

    # Pickup has no fee: the cart's subtotal is exactly what the order charges.
    body = {"fulfilment": "pickup", "pickup_point_id": point.pk, "payment_method": "sandbox"}
    quote = client.post(f"{API}/quote", body, content_type="application/json", headers=headers).json()
    assert quote["total_fen"] == quote["items_total_fen"] == group["subtotal_fen"]
    order = client.post(API, body, content_type="application/json", headers=headers).json()
    assert order["total_fen"] == group["subtotal_fen"] == 7000

    # The checkout page's items total is the same figure.
    fill_cart(client, headers, farm)
    checkout_page = client.get("/checkout/").content.decode()
    assert fen_on_page(checkout_page, "items-total") == 7000


def test_quote_is_the_order_created_with_the_same_input(client, farm):
    member = shop_member(farm)
    headers = auth_headers(member)
    body = {
        "sku_id": farm["salmon"].pk,
        "quantity": 3,
        "fulfilment": "delivery",
        "payment_method": "cod",
        "address_id": member.addresses.get().pk,
        "buyer_note": "放门口",
    }
    quote = client.post(f"{API}/quote", body, content_type="application/json", headers=headers)
    assert quote.status_code == 200, quote.content
    quote = quote.json()
    assert Order.objects.count() == 0  # a quote writes nothing

    order = client.post(API, body, content_type="application/json", headers=headers).json()
    for name in SHARED_FIELDS:
        assert quote[name] == order[name], name
    assert len(quote["lines"]) == len(order["lines"]) == 1
    for name in SHARED_LINE_FIELDS:
        assert quote["lines"][0][name] == order["lines"][0][name], name
    # 3 × ¥29 member price = ¥87, below ¥99: ¥10 delivery, ¥12 more would make it free.
    assert quote["lines"][0]["member_price"] is True
    assert quote["lines"][0]["price_fen"] == 3500
    assert (quote["items_total_fen"], quote["shipping_fee_fen"], quote["total_fen"]) == (8700, 1000, 9700)
    assert quote["free_shipping_threshold_fen"] == 9900
    assert quote["free_shipping_gap_fen"] == 1200
    assert quote["cod_available"] is True


def test_a_non_member_is_quoted_the_shelf_price(client, farm):
    outsider = make_member()
    member = shop_member(farm)
    body = {"sku_id": farm["salmon"].pk, "quantity": 3, "fulfilment": "delivery", "payment_method": "sandbox"}

    def quote_for(user):
        response = client.post(f"{API}/quote", body, content_type="application/json", headers=auth_headers(user))
        assert response.status_code == 200, response.content  # no address chosen yet: still a quote
        return response.json()

    outsider_quote, member_quote = quote_for(outsider), quote_for(member)
    line = outsider_quote["lines"][0]
    assert (line["unit_price_fen"], line["member_price"], line["total_fen"]) == (3500, False, 10500)
    # ¥105 reaches the ¥99 line: delivery is free for the outsider, not for the member (¥87).
    assert (outsider_quote["shipping_fee_fen"], outsider_quote["free_shipping_gap_fen"]) == (0, 0)
    assert outsider_quote["total_fen"] == 10500
    assert member_quote["lines"][0]["unit_price_fen"] == 2900
    assert (member_quote["shipping_fee_fen"], member_quote["total_fen"]) == (1000, 9700)


def test_a_shop_that_never_ships_free_has_no_gap(client, farm):
    farm["shop"].free_shipping_threshold_fen = 0
    farm["shop"].cod_enabled = False
    farm["shop"].save()
    body = {"sku_id": farm["shrimp"].pk, "fulfilment": "delivery", "payment_method": "sandbox"}
    quote = client.post(f"{API}/quote", body, content_type="application/json", headers=auth_headers(make_member()))
    assert quote.json()["free_shipping_gap_fen"] is None
    assert quote.json()["delivery_fee_fen"] == 1000
    assert quote.json()["cod_available"] is False


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"quantity": 100}, 422, "invalid_quantity"),  # past the 99 a line may hold
        ({"payment_method": "cod"}, 422, "payment_method_unavailable"),
        ({"address_id": 999_999}, 422, "address_required"),
        ({"quantity": 21}, 409, "sold_out"),
        ({"sku_id": 999_999}, 422, "product_unavailable"),
        ({"cart_item_ids": [999_999], "sku_id": None}, 404, "cart_item_not_found"),
    ],
)
def test_the_quote_refuses_what_the_order_would_refuse(client, farm, change, status, code):
    farm["shop"].cod_enabled = False
    farm["shop"].save()
    member = make_member()
    headers = auth_headers(member)
    address = member.addresses.get().pk
    body = {"sku_id": farm["shrimp"].pk, "fulfilment": "delivery", "payment_method": "sandbox", "address_id": address}
    body.update(change)
    quote = client.post(f"{API}/quote", body, content_type="application/json", headers=headers)
    assert (quote.status_code, quote.json()["code"]) == (status, code)
    order = client.post(API, body, content_type="application/json", headers=headers)
    assert (order.status_code, order.json()["code"]) == (status, code)


def test_the_quote_needs_a_signed_in_member(client, farm):
    body = {"sku_id": farm["shrimp"].pk, "fulfilment": "delivery", "payment_method": "sandbox"}
    assert client.post(f"{API}/quote", body, content_type="application/json").status_code == 401


def test_a_deployment_without_the_sandbox_offers_and_takes_cash_only(client, farm, settings):
    """Production leaves the sandbox out of PAYMENT_GATEWAYS: checkout neither offers nor accepts it."""
    settings.PAYMENT_GATEWAYS = ["cod"]
    member = shop_member(farm)
    headers = auth_headers(member)
    body = {"sku_id": farm["shrimp"].pk, "quantity": 1, "fulfilment": "delivery", "payment_method": "sandbox"}

    quote = client.post(f"{API}/quote", body, content_type="application/json", headers=headers)
    assert quote.status_code == 422
    assert quote.json()["code"] == "payment_method_unavailable"
    refused = client.post(API, body, content_type="application/json", headers=headers)
    assert (refused.status_code, refused.json()["code"]) == (422, "payment_method_unavailable")
    assert not Order.objects.exists()

    cash = client.post(
        f"{API}/quote", {**body, "payment_method": "cod"}, content_type="application/json", headers=headers
    )
    assert cash.status_code == 200, cash.content
    assert cash.json()["payment_methods"] == ["cod"]
    assert cash.json()["cod_available"] is True

    client.force_login(member)
    page = client.get(f"/checkout/?sku={farm['shrimp'].pk}&quantity=1").content.decode()
    assert 'data-testid="pay-sandbox"' not in page
    assert re.search(r'value="cod"\s+checked', page), "cash on delivery is the one choice, already chosen"


def test_the_quote_lists_the_payment_methods_a_member_may_choose(client, farm):
    member = shop_member(farm)
    body = {"sku_id": farm["shrimp"].pk, "quantity": 1, "fulfilment": "delivery", "payment_method": "sandbox"}
    quote = client.post(f"{API}/quote", body, content_type="application/json", headers=auth_headers(member))
    assert quote.json()["payment_methods"] == ["sandbox", "cod"]

    farm["shop"].cod_enabled = False
    farm["shop"].save(update_fields=["cod_enabled"])
    quote = client.post(f"{API}/quote", body, content_type="application/json", headers=auth_headers(member))
    assert (quote.json()["payment_methods"], quote.json()["cod_available"]) == (["sandbox"], False)


def test_an_order_above_what_its_amount_columns_hold_is_refused_before_any_write(client, farm):
    """Two units at ¥21,474,836.47 sum past the int32 total WeChat Pay and the columns take."""
    dear = make_sku(farm["shop"], price_fen=2_147_483_647, stock=5, title="整船三文鱼")
    pickup = PickupPointFactory.create(shop=farm["shop"])
    body = {
        "sku_id": dear.pk,
        "quantity": 2,
        "fulfilment": "pickup",
        "pickup_point_id": pickup.pk,
        "payment_method": "sandbox",
    }
    headers = auth_headers(make_member())
    for path in (f"{API}/quote", API):
        refused = client.post(path, body, content_type="application/json", headers=headers)
        assert (refused.status_code, refused.json()["code"]) == (422, "order_too_large"), path
        assert "¥21,474,836.47" in refused.json()["message"]
    assert not Order.objects.exists()
    assert Sku.objects.get(pk=dear.pk).stock == 5

    one = client.post(f"{API}/quote", {**body, "quantity": 1}, content_type="application/json", headers=headers)
    assert (one.status_code, one.json()["total_fen"]) == (200, 2_147_483_647)
