"""The naive reference endpoint of bench/order_create.py: routed only on request, and working."""

import json

import pytest
from django.test import Client

from shequn.accounts.actions import do_issue_token
from shequn.catalog.models import Sku
from shequn.orders.models import Order
from shequn.testing.factories import PickupPointFactory, SkuFactory, UserFactory


def _post(client: Client, token: str, body: dict, key: str) -> tuple[int, dict]:
    response = client.post(
        "/bench/naive-order/",
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
    )
    return response.status_code, response.json()


@pytest.mark.django_db
def test_not_routed_unless_asked_for(client: Client) -> None:
    assert client.post("/bench/naive-order/").status_code == 404


@pytest.mark.django_db
def test_naive_endpoint_creates_orders_like_the_real_one(client: Client, settings) -> None:
    settings.ROOT_URLCONF = "shequn.demo.bench_urls"
    sku: Sku = SkuFactory.create(stock=2, price_fen=3500)
    point = PickupPointFactory.create(shop=sku.shop)
    token = do_issue_token(UserFactory.create()).token
    body = {
        "sku_id": sku.pk,
        "quantity": 1,
        "fulfilment": "pickup",
        "pickup_point_id": point.pk,
        "payment_method": "sandbox",
    }

    status, order = _post(client, token, body, "k1")
    assert status == 201, order
    assert order["total_fen"] == 3500
    assert _post(client, token, body, "k1") == (201, order)  # the same key replays the same order
    status, second = _post(client, token, {**body, "quantity": 2}, "k2")
    assert status == 409
    assert second["code"] == "sold_out"

    sku.refresh_from_db()
    assert sku.stock == 1
    assert Order.objects.count() == 1
