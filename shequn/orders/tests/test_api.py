import pytest
from django.test import Client

from shequn.core.idempotency import fingerprint
from shequn.core.models import AuditLog, IdempotencyKey
from shequn.orders.enums import OrderStatus, RefundStatus
from shequn.orders.models import CartItem, Order
from shequn.testing.factories import PickupPointFactory, StaffFactory
from shequn.testing.orders import auth_headers, make_member, make_shop, make_sku, make_staff, paid_order, place_order

pytestmark = pytest.mark.django_db

API = "/api/v1/orders"


@pytest.fixture
def client():
    return Client()


def order_body(member, sku, **extra):
    return {
        "sku_id": sku.pk,
        "quantity": 2,
        "fulfilment": "delivery",
        "payment_method": "sandbox",
        "address_id": member.addresses.get().pk,
        **extra,
    }


def test_cart_endpoints(client, member, sku):
    headers = auth_headers(member)
    response = client.post(
        f"{API}/cart", {"sku_id": sku.pk, "quantity": 2}, content_type="application/json", headers=headers
    )
    assert response.status_code == 201, response.content
    item_id = response.json()["id"]
    response = client.patch(f"{API}/cart/{item_id}", {"quantity": 3}, content_type="application/json", headers=headers)
    assert response.json()["quantity"] == 3
    groups = client.get(f"{API}/cart", headers=headers).json()
    assert groups[0]["shop_slug"] == sku.shop.slug
    assert groups[0]["subtotal_fen"] == 3 * sku.price_fen
    # Below one unit the schema refuses the field; above the per-line limit the cart rule does.
    response = client.patch(f"{API}/cart/{item_id}", {"quantity": 0}, content_type="application/json", headers=headers)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"
    assert [error["loc"][-1] for error in response.json()["details"]["errors"]] == ["quantity"]
    response = client.patch(
        f"{API}/cart/{item_id}", {"quantity": 100}, content_type="application/json", headers=headers
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_quantity"
    # Another member cannot touch this line.
    other = auth_headers(make_member())
    assert client.delete(f"{API}/cart/{item_id}", headers=other).status_code == 404
    assert client.delete(f"{API}/cart/{item_id}", headers=headers).status_code == 204
    assert not CartItem.objects.exists()


def test_create_order_and_read_it_back(client, member, sku):
    headers = auth_headers(member)
    response = client.post(API, order_body(member, sku), content_type="application/json", headers=headers)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending_payment"
    assert body["total_fen"] == 7000 + 1000
    assert body["lines"][0]["quantity"] == 2
    assert body["timeline"][0]["to_status"] == "pending_payment"
    detail = client.get(f"{API}/{body['number']}", headers=headers).json()
    assert detail["recipient_phone"] == member.addresses.get().phone  # the owner sees the full number
    listing = client.get(API, headers=headers).json()
    assert listing["count"] == 1
    assert listing["items"][0]["number"] == body["number"]


@pytest.mark.parametrize(
    "written",
    [
        "inside a transaction: the key in its own",
        pytest.param("outside one: the key with the group-commit batch", marks=pytest.mark.django_db(transaction=True)),
    ],
)
def test_idempotency_key_same_body_same_order_different_body_422(client, member, sku, written):
    headers = auth_headers(member, **{"Idempotency-Key": "checkout-1"})
    first = client.post(API, order_body(member, sku), content_type="application/json", headers=headers)
    again = client.post(API, order_body(member, sku), content_type="application/json", headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Order.objects.count() == 1
    different = client.post(API, order_body(member, sku, quantity=1), content_type="application/json", headers=headers)
    assert different.status_code == 422
    assert different.json()["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 1


@pytest.mark.parametrize(
    "written",
    [
        "inside a transaction: the key in its own",
        pytest.param("outside one: the key with the group-commit batch", marks=pytest.mark.django_db(transaction=True)),
    ],
)
def test_idempotency_key_while_first_request_runs_is_409(client, member, sku, written):
    body = order_body(member, sku)
    full = {
        "cart_item_ids": None,
        "pickup_point_id": None,
        "delivery_slot_id": None,
        "buyer_note": "",
        "post_id": None,
        "article_id": None,
        "coupon_id": None,
        "points": 0,
        **body,
    }
    IdempotencyKey.objects.create(user=member, scope="orders.create", key="k-2", fingerprint=fingerprint(full))
    response = client.post(
        API, body, content_type="application/json", headers=auth_headers(member, **{"Idempotency-Key": "k-2"})
    )
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_in_progress"
    assert Order.objects.count() == 0


@pytest.mark.parametrize(
    "written",
    [
        "inside a transaction: the key in its own",
        pytest.param("outside one: the key with the group-commit batch", marks=pytest.mark.django_db(transaction=True)),
    ],
)
def test_sold_out_error_shape_is_replayed_for_the_same_key(client, member, shop, written):
    sku = make_sku(shop, stock=1, title="帝王蟹")
    headers = auth_headers(member, **{"Idempotency-Key": "k-3"})
    response = client.post(API, order_body(member, sku), content_type="application/json", headers=headers)
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "sold_out"
    assert "帝王蟹" in body["message"]
    assert body["details"]["sku_id"] == sku.pk
    again = client.post(API, order_body(member, sku), content_type="application/json", headers=headers)
    assert (again.status_code, again.json()) == (409, body)


def test_error_shapes(client, member, sku):
    assert client.get(API).status_code == 401
    assert client.get(API).json()["code"] == "not_authenticated"
    headers = auth_headers(member)
    response = client.post(API, {"fulfilment": "teleport"}, content_type="application/json", headers=headers)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"
    response = client.get(f"{API}/12345678901234567890", headers=headers)
    assert response.status_code == 404
    assert set(response.json()) >= {"code", "message"}


def test_cancel_and_refund_through_the_api(client, member, sku):
    headers = auth_headers(member)
    pending = place_order(member, sku)
    response = client.post(f"{API}/{pending.number}/cancel", headers=headers)
    assert response.json()["status"] == "cancelled"
    response = client.post(f"{API}/{pending.number}/cancel", headers=headers)
    assert (response.status_code, response.json()["code"]) == (409, "invalid_transition")

    order = paid_order(member, sku)
    line = order.lines.get()
    payload = {"line_id": line.pk, "amount_fen": 99999, "reason": "坏了"}
    response = client.post(f"{API}/{order.number}/refunds", payload, content_type="application/json", headers=headers)
    assert (response.status_code, response.json()["code"]) == (422, "refund_amount_invalid")
    payload["amount_fen"] = 1000
    response = client.post(f"{API}/{order.number}/refunds", payload, content_type="application/json", headers=headers)
    assert response.status_code == 201
    assert response.json()["status"] == RefundStatus.REQUESTED
    assert client.get(f"{API}/refunds", headers=headers).json()["count"] == 1


def test_member_b_gets_404_for_member_a_orders(client, member, sku):
    order = paid_order(member, sku)
    stranger = auth_headers(make_member())
    assert client.get(f"{API}/{order.number}", headers=stranger).status_code == 404
    assert client.post(f"{API}/{order.number}/cancel", headers=stranger).status_code == 404
    payload = {"line_id": order.lines.get().pk, "amount_fen": 100, "reason": "x"}
    response = client.post(f"{API}/{order.number}/refunds", payload, content_type="application/json", headers=stranger)
    assert response.status_code == 404
    assert client.get(API, headers=stranger).json()["count"] == 0


def test_console_fulfilment_flow_with_audit_and_masked_phone(client, member, shop):
    sku = make_sku(shop)
    staff = make_staff(shop)
    headers = auth_headers(staff)
    order = paid_order(member, sku)
    listing = client.get(f"{API}/console/orders?status=paid", headers=headers).json()
    assert [row["number"] for row in listing["items"]] == [order.number]
    assert "****" in listing["items"][0]["recipient_phone"]
    response = client.post(
        f"{API}/console/orders/{order.pk}/ship",
        {"tracking_company": "顺丰", "tracking_number": ""},
        content_type="application/json",
        headers=headers,
    )
    assert (response.status_code, response.json()["code"]) == (422, "tracking_required")
    response = client.post(
        f"{API}/console/orders/{order.pk}/ship",
        {"tracking_company": "顺丰", "tracking_number": "SF100"},
        content_type="application/json",
        headers=headers,
        REMOTE_ADDR="10.1.2.3",
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == OrderStatus.SHIPPED
    assert response.json()["tracking_number"] == "SF100"
    assert AuditLog.objects.get(action="order.ship").ip == "10.1.2.3"
    response = client.post(f"{API}/console/orders/{order.pk}/ready", headers=headers)
    assert (response.status_code, response.json()["code"]) == (409, "invalid_transition")
    assert client.post(f"{API}/console/orders/{order.pk}/delivered", headers=headers).json()["status"] == "delivered"
    assert client.post(f"{API}/console/orders/{order.pk}/complete", headers=headers).json()["status"] == "completed"


def test_console_pickup_flow(client, member, shop):
    sku = make_sku(shop)
    headers = auth_headers(make_staff(shop, role="operator"))
    point = PickupPointFactory.create(shop=shop)
    order = paid_order(member, sku, fulfilment="pickup", pickup_point_id=point.pk)
    assert client.post(f"{API}/console/orders/{order.pk}/ready", headers=headers).json()["status"] == "ready_for_pickup"
    assert client.post(f"{API}/console/orders/{order.pk}/picked-up", headers=headers).json()["status"] == "picked_up"


def test_console_permissions_and_shop_choice(client, member, shop):
    finance = auth_headers(make_staff(shop, role="finance"))
    order = paid_order(member, make_sku(shop))
    response = client.post(
        f"{API}/console/orders/{order.pk}/ship",
        {"tracking_company": "顺丰", "tracking_number": "1"},
        content_type="application/json",
        headers=finance,
    )
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    # Staff of two shops must name one.
    second_shop = make_shop()
    staff = make_staff(shop)
    StaffFactory.create(shop=second_shop, user=staff)
    response = client.get(f"{API}/console/orders", headers=auth_headers(staff))
    assert (response.status_code, response.json()["code"]) == (422, "shop_required")
    response = client.get(f"{API}/console/orders", headers=auth_headers(staff, **{"X-Shop": shop.slug}))
    assert response.json()["count"] == 1
    response = client.get(f"{API}/console/orders", headers=auth_headers(staff, **{"X-Shop": second_shop.slug}))
    assert response.json()["count"] == 0
    # A member who is no staff at all sees no shop.
    assert client.get(f"{API}/console/orders", headers=auth_headers(member)).status_code == 404


def test_staff_of_shop_b_get_404_for_shop_a_orders_and_refunds(client, member, shop):
    order = paid_order(member, make_sku(shop))
    refund_response = client.post(
        f"{API}/{order.number}/refunds",
        {"line_id": order.lines.get().pk, "amount_fen": 100, "reason": "x"},
        content_type="application/json",
        headers=auth_headers(member),
    )
    refund_id = refund_response.json()["id"]
    shop_b = make_shop()
    headers = auth_headers(make_staff(shop_b))
    assert client.get(f"{API}/console/orders/{order.pk}", headers=headers).status_code == 404
    for action in ("ready", "picked-up", "delivered", "complete"):
        assert client.post(f"{API}/console/orders/{order.pk}/{action}", headers=headers).status_code == 404
    response = client.post(
        f"{API}/console/orders/{order.pk}/ship",
        {"tracking_company": "顺丰", "tracking_number": "1"},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 404
    response = client.post(
        f"{API}/console/refunds/{refund_id}/reject",
        {"reason": "不行"},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 404
    assert client.get(f"{API}/console/refunds", headers=headers).json()["count"] == 0
    assert client.get(f"{API}/console/orders", headers=headers).json()["count"] == 0
    # Shop A's own staff can reject it.
    response = client.post(
        f"{API}/console/refunds/{refund_id}/reject",
        {"reason": "不行"},
        content_type="application/json",
        headers=auth_headers(make_staff(shop)),
    )
    assert response.json()["status"] == "rejected"


def test_openapi_declares_error_responses_for_every_order_route(client):
    spec = client.get("/api/v1/openapi.json").json()
    order_paths = {path: ops for path, ops in spec["paths"].items() if path.startswith(API)}
    assert order_paths
    for path, operations in order_paths.items():
        for method, operation in operations.items():
            codes = {int(code) for code in operation["responses"]}
            assert any(code >= 400 for code in codes), (method, path)
