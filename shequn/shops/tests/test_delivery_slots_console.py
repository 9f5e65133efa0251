"""Operators manage delivery slots in the console: create, edit capacity and cut-off, close;
every write audited; roles and shops as everywhere else in the console."""

from datetime import datetime, time, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from shequn.core.models import AuditLog
from shequn.shops.models import DeliverySlot
from shequn.testing.orders import auth_headers, make_member, make_shop, make_sku, make_slot, make_staff, place_order

pytestmark = pytest.mark.django_db

SLOTS = reverse("shops:console_delivery_slots")


def staff_client(shop, role="owner"):
    client = Client()
    client.force_login(make_staff(shop, role=role))
    return client


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
