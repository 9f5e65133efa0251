from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from shequn.flashsales.models import FlashSale
from shequn.orders.models import Order
from shequn.testing.orders import auth_headers

from .conftest import buyer, item_of

pytestmark = pytest.mark.django_db


def api(user) -> Client:
    return Client(headers=auth_headers(user))


def sale_body(sku, *, starts_in=timedelta(hours=1), price=99900) -> dict:
    starts = timezone.now() + starts_in
    return {
        "title": "手机秒杀",
        "reservation_starts_at": (starts - timedelta(days=1)).isoformat(),
        "priority_minutes": 5,
        "sessions": [
            {
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=1)).isoformat(),
                "items": [{"sku_id": sku.pk, "flash_price_fen": price, "quantity": 2, "per_person_cap": 1}],
            }
        ],
    }


def test_operator_creates_schedules_and_reads_counters(shop, operator, sku, commit):
    client = api(operator)
    refused = client.post(
        "/api/v1/flashsales/console/sales", sale_body(sku, price=300000), content_type="application/json"
    )
    assert (refused.status_code, refused.json()["code"]) == (422, "flash_sale_invalid")
    assert refused.json()["message"] == "「手机 256G」的秒杀价须低于售价"
    created = client.post("/api/v1/flashsales/console/sales", sale_body(sku), content_type="application/json")
    assert created.status_code == 201
    sale_id = created.json()["sale"]["id"]
    assert created.json()["items"][0]["flash_price_fen"] == 99900
    with commit():
        scheduled = client.post(f"/api/v1/flashsales/console/sales/{sale_id}/schedule")
    assert scheduled.json()["sale"]["status"] == "scheduled"
    counters = client.get(f"/api/v1/flashsales/console/sales/{sale_id}/counters").json()
    assert (counters["reservations"], counters["left"], counters["ok"]) == (0, 2, True)
    listed = client.get("/api/v1/flashsales/console/sales?page_size=5").json()
    assert (listed["count"], listed["items"][0]["id"]) == (1, sale_id)
    again = client.put(f"/api/v1/flashsales/console/sales/{sale_id}", sale_body(sku), content_type="application/json")
    assert (again.status_code, again.json()["code"]) == (409, "flash_sale_not_draft")
    with commit():
        assert client.post(f"/api/v1/flashsales/console/sales/{sale_id}/pause").json()["sale"]["status"] == "paused"
        assert client.post(f"/api/v1/flashsales/console/sales/{sale_id}/resume").json()["sale"]["status"] == "scheduled"
        assert client.post(f"/api/v1/flashsales/console/sales/{sale_id}/end").json()["sale"]["status"] == "ended"


def test_member_reserves_buys_and_polls_the_claim_to_its_order(running, commit):
    member = buyer()
    client = api(member)
    item = item_of(running)
    page = client.get(f"/api/v1/flashsales/sales/{running.pk}").json()
    assert (page["phase"], page["reserved"], page["items"][0]["left"]) == ("open", False, 3)
    with commit():
        first = client.post(f"/api/v1/flashsales/sales/{running.pk}/reservation").json()
        second = client.post(f"/api/v1/flashsales/sales/{running.pk}/reservation").json()
    assert (first["created"], second["created"], second["reservation_count"]) == (True, False, 1)
    bought = client.post(
        f"/api/v1/flashsales/items/{item.pk}/attempts", {"quantity": 1}, content_type="application/json"
    )
    assert bought.status_code == 202
    claim_id = bought.json()["claim_id"]
    with commit():
        polled = client.get(f"/api/v1/flashsales/claims/{claim_id}").json()
    order = Order.objects.get(user=member)
    assert (polled["status"], polled["order_number"]) == ("ordered", order.number)
    refused = client.post(f"/api/v1/flashsales/items/{item.pk}/attempts", {}, content_type="application/json")
    assert (refused.status_code, refused.json()["code"], refused.json()["message"]) == (
        409,
        "flash_over_cap",
        "每人限购 1 件",
    )
    # Another member cannot read the claim.
    assert api(buyer("别人")).get(f"/api/v1/flashsales/claims/{claim_id}").status_code == 404
    assert client.get("/api/v1/flashsales/sales").json()["count"] == 1


def test_inputs_are_bounded_and_foreign_ids_look_absent(shop, other_shop, operator, other_operator, sku, running):
    client = api(operator)
    huge = client.post("/api/v1/flashsales/items/99999999999999999999/attempts", {}, content_type="application/json")
    assert huge.status_code in (404, 422)
    quantity = api(buyer()).post(
        f"/api/v1/flashsales/items/{item_of(running).pk}/attempts", {"quantity": 0}, content_type="application/json"
    )
    assert quantity.status_code == 422
    foreign = api(other_operator)
    for path in ("", "/counters"):
        assert foreign.get(f"/api/v1/flashsales/console/sales/{running.pk}{path}").status_code == 404
    for move in ("schedule", "pause", "resume", "end"):
        assert foreign.post(f"/api/v1/flashsales/console/sales/{running.pk}/{move}").status_code == 404
    assert FlashSale.objects.get(pk=running.pk).status == "running"
