"""Operators manage delivery slots in the console: create, edit capacity and cut-off, close;
every write audited; roles and shops as everywhere else in the console."""

from datetime import datetime, time, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from shequn.core.models import AuditLog
from shequn.shops.models import DeliverySlot
from shequn.testing.orders import (
    auth_headers,
    make_member,
    make_shop,
    make_sku,
    make_slot,
    make_staff,
    place_order,
    staff_client,
)

pytestmark = pytest.mark.django_db

SLOTS = reverse("shops:console_delivery_slots")


def test_an_operator_adds_a_slot_with_the_usual_cutoff():
    shop = make_shop()
    client = staff_client(shop, role="operator")
    tomorrow = timezone.localdate() + timedelta(days=1)
    form = {"date": tomorrow.isoformat(), "starts_at": "09:00", "ends_at": "12:00", "capacity": "50", "cutoff_at": ""}
    response = client.post(SLOTS, form)
    assert response.status_code == 302
    slot = DeliverySlot.objects.get(shop=shop)
    assert (slot.date, slot.starts_at, slot.ends_at, slot.capacity, slot.booked) == (
        tomorrow,
        time(9),
        time(12),
        50,
        0,
    )
    # Cut-off: the day before at 20:00, local time.
    assert timezone.localtime(slot.cutoff_at).replace(tzinfo=None) == datetime.combine(timezone.localdate(), time(20))
    entry = AuditLog.objects.get(action="delivery_slot.create")
    assert (entry.shop_id, entry.object_id) == (shop.pk, str(slot.pk))

    page = client.get(SLOTS).content.decode()
    assert slot.label in page
    assert "0 / 50" in page

    # The same window twice is refused on the form.
    again = client.post(SLOTS, form)
    assert again.status_code == 409
    assert "这一天已有相同的时段" in again.content.decode()
    assert DeliverySlot.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ends_at": "08:00"}, "结束时间须晚于开始时间"),
        ({"date": "2020-01-01"}, "日期不能早于今天"),
        ({"capacity": "0"}, ""),
    ],
)
def test_bad_slots_are_refused_on_the_form(change, message):
    shop = make_shop()
    client = staff_client(shop)
    tomorrow = timezone.localdate() + timedelta(days=1)
    form = {"date": tomorrow.isoformat(), "starts_at": "09:00", "ends_at": "12:00", "capacity": "50", **change}
    response = client.post(SLOTS, form)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not DeliverySlot.objects.exists()


def test_capacity_never_goes_below_the_places_taken():
    shop = make_shop()
    sku = make_sku(shop)
    minute = timezone.now().replace(second=0, microsecond=0) + timedelta(hours=2)
    slot = make_slot(shop, capacity=5, cutoff_at=minute)  # the console edits to the minute
    for _ in range(3):
        place_order(make_member(), sku, delivery_slot_id=slot.pk)
    client = staff_client(shop)
    edit = reverse("shops:console_delivery_slot_edit", args=[slot.pk])
    cutoff = timezone.localtime(slot.cutoff_at).strftime("%Y-%m-%dT%H:%M")

    refused = client.post(edit, {"capacity": "2", "cutoff_at": cutoff})
    assert refused.status_code == 409
    assert "已有 3 单预约了这个时段，可约单数不能少于 3" in refused.content.decode()
    assert DeliverySlot.objects.get(pk=slot.pk).capacity == 5

    assert client.post(edit, {"capacity": "3", "cutoff_at": cutoff}).status_code == 302
    assert DeliverySlot.objects.get(pk=slot.pk).capacity == 3
    assert AuditLog.objects.get(action="delivery_slot.update").detail["changes"] == {"capacity": ["5", "3"]}


def offered_slots(member, sku) -> list[int]:
    body = {"sku_id": sku.pk, "fulfilment": "delivery", "payment_method": "sandbox"}
    quote = Client().post("/api/v1/orders/quote", body, content_type="application/json", headers=auth_headers(member))
    return [choice["id"] for choice in quote.json()["delivery_slots"]]


def test_closing_a_slot_stops_new_orders_and_keeps_booked_ones():
    shop = make_shop()
    sku = make_sku(shop)
    slot = make_slot(shop)
    member = make_member()
    booked = place_order(member, sku, delivery_slot_id=slot.pk)
    client = staff_client(shop)

    client.post(reverse("shops:console_delivery_slot_open", args=[slot.pk]), {"open": "0"})
    assert DeliverySlot.objects.get(pk=slot.pk).is_open is False
    assert AuditLog.objects.filter(action="delivery_slot.close").count() == 1
    assert "已关闭" in client.get(SLOTS).content.decode()
    assert offered_slots(member, sku) == []
    booked.refresh_from_db()
    assert booked.delivery_slot_id == slot.pk

    client.post(reverse("shops:console_delivery_slot_open", args=[slot.pk]), {"open": "1"})
    assert offered_slots(member, sku) == [slot.pk]


def test_requiring_slots_is_a_console_switch():
    shop = make_shop()
    client = staff_client(shop)
    client.post(reverse("shops:console_delivery_slots_required"), {"required": "1"})
    shop.refresh_from_db()
    assert shop.delivery_slots_required is True
    assert AuditLog.objects.get(action="shop.delivery_slots_required").detail == {"required": True}


def test_roles_without_the_permission_get_403_and_other_shops_404():
    shop = make_shop()
    slot = make_slot(shop)
    finance = staff_client(shop, role="finance")
    assert finance.get(SLOTS).status_code == 403
    assert finance.post(reverse("shops:console_delivery_slot_open", args=[slot.pk]), {"open": "0"}).status_code == 403
    outsider = staff_client(make_shop())
    assert outsider.get(reverse("shops:console_delivery_slot_edit", args=[slot.pk])).status_code == 404
    assert outsider.post(reverse("shops:console_delivery_slot_open", args=[slot.pk]), {"open": "0"}).status_code == 404
    assert DeliverySlot.objects.get(pk=slot.pk).is_open is True


def test_the_operator_api_uses_the_same_actions():
    shop = make_shop()
    sku = make_sku(shop)
    operator = make_staff(shop, role="operator")
    api = Client(headers=auth_headers(operator))
    base = f"/api/v1/shops/{shop.pk}/delivery-slots"
    day = (timezone.localdate() + timedelta(days=2)).isoformat()
    body = {"date": day, "starts_at": "09:00", "ends_at": "12:00", "capacity": 2, "cutoff_at": None}

    created = api.post(base, body, content_type="application/json")
    assert created.status_code == 201, created.content
    slot = created.json()
    assert (slot["capacity"], slot["booked"], slot["is_open"], slot["starts_at"]) == (2, 0, True, "09:00:00")
    assert AuditLog.objects.filter(action="delivery_slot.create", object_id=str(slot["id"])).count() == 1
    duplicate = api.post(base, body, content_type="application/json")
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "slot_exists")
    backwards = api.post(base, {**body, "ends_at": "08:00"}, content_type="application/json")
    assert (backwards.status_code, backwards.json()["code"]) == (422, "invalid_delivery_slot")

    for _ in range(2):
        place_order(make_member(), sku, delivery_slot_id=slot["id"])
    shrink = api.patch(f"{base}/{slot['id']}", {"capacity": 1}, content_type="application/json")
    assert (shrink.status_code, shrink.json()["code"]) == (409, "capacity_below_booked")
    grow = api.patch(f"{base}/{slot['id']}", {"capacity": 60}, content_type="application/json")
    assert (grow.json()["capacity"], grow.json()["booked"]) == (60, 2)

    closed = api.post(f"{base}/{slot['id']}/close")
    assert closed.json()["is_open"] is False
    assert [row["id"] for row in api.get(base).json()] == [slot["id"]]
    assert api.post(f"{base}/{slot['id']}/open").json()["is_open"] is True

    finance = Client(headers=auth_headers(make_staff(shop, role="finance")))
    assert finance.get(base).status_code == 403
    outsider = Client(headers=auth_headers(make_staff(make_shop())))
    assert outsider.post(f"{base}/{slot['id']}/close").status_code == 404
    other_shop = make_shop()
    make_staff(other_shop, role="owner")
    own_staff_elsewhere = Client(headers=auth_headers(make_staff(other_shop)))
    other_base = f"/api/v1/shops/{other_shop.pk}/delivery-slots"
    assert own_staff_elsewhere.post(f"{other_base}/{slot['id']}/close").status_code == 404  # not that shop's slot
    assert DeliverySlot.objects.get(pk=slot["id"]).is_open is True
