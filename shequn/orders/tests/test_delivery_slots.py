"""Delivery slots at checkout (ADR 0007): chosen, required, refused when full or closed, snapshotted
on the order, given back when the order is closed or cancelled."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from shequn.orders import actions
from shequn.orders.errors import SlotClosed, SlotFull, SlotNotFound, SlotRequired
from shequn.orders.models import Order
from shequn.shops.models import DeliverySlot
from shequn.testing.factories import PickupPointFactory
from shequn.testing.orders import auth_headers, make_member, make_shop, make_slot, place_order

pytestmark = pytest.mark.django_db

API = "/api/v1/orders"


def booked(slot: DeliverySlot) -> int:
    return DeliverySlot.objects.get(pk=slot.pk).booked


def test_an_order_takes_a_place_and_keeps_a_copy_of_the_slot(member, sku):
    slot = make_slot(sku.shop, capacity=50)
    order = place_order(member, sku, delivery_slot_id=slot.pk)

    assert booked(slot) == 1
    order.refresh_from_db()
    assert order.delivery_slot_id == slot.pk
    assert order.delivery_slot_date == slot.date
    assert order.delivery_slot_label == slot.label
    assert slot.label.endswith("09:00–12:00")
    assert f"{slot.date.month}月{slot.date.day}日" in slot.label

    # Later changes of the slot do not rewrite the order's copy.
    DeliverySlot.objects.filter(pk=slot.pk).update(starts_at="10:00")
    assert Order.objects.get(pk=order.pk).delivery_slot_label == slot.label


def test_the_api_order_shows_its_slot(member, sku):
    slot = make_slot(sku.shop)
    body = {
        "sku_id": sku.pk,
        "fulfilment": "delivery",
        "payment_method": "sandbox",
        "address_id": member.addresses.get().pk,
        "delivery_slot_id": slot.pk,
    }
    headers = auth_headers(member)
    created = Client().post(API, body, content_type="application/json", headers=headers).json()
    assert created["delivery_slot"] == {"id": slot.pk, "date": slot.date.isoformat(), "label": slot.label}
    read_back = Client().get(f"{API}/{created['number']}", headers=headers).json()
    assert read_back["delivery_slot"] == created["delivery_slot"]


def test_a_shop_that_requires_slots_refuses_delivery_without_one_but_not_pickup(member, sku):
    sku.shop.delivery_slots_required = True
    sku.shop.save()
    make_slot(sku.shop)
    with pytest.raises(SlotRequired) as raised:
        place_order(member, sku)
    assert raised.value.code == "slot_required"
    assert booked(DeliverySlot.objects.get()) == 0
    # Pickup may go without a slot.
    assert place_order(member, sku, fulfilment="pickup").delivery_slot_id is None


def test_slots_are_optional_when_the_shop_does_not_require_them(member, sku):
    make_slot(sku.shop)
    assert place_order(member, sku).delivery_slot_id is None


def test_a_pickup_order_may_choose_a_slot(member, sku):
    slot = make_slot(sku.shop)
    order = place_order(member, sku, fulfilment="pickup", delivery_slot_id=slot.pk)
    assert (order.delivery_slot_id, booked(slot)) == (slot.pk, 1)


def test_the_last_place_goes_once_then_the_slot_is_full(sku):
    slot = make_slot(sku.shop, capacity=2)
    place_order(make_member(), sku, delivery_slot_id=slot.pk)
    place_order(make_member(), sku, delivery_slot_id=slot.pk)
    with pytest.raises(SlotFull) as raised:
        place_order(make_member(), sku, delivery_slot_id=slot.pk)
    assert raised.value.code == "slot_full"
    assert "已约满" in raised.value.message
    assert booked(slot) == 2
    assert Order.objects.count() == 2
    sku.refresh_from_db()
    assert sku.stock == 8  # the refused order took no stock


def test_a_place_taken_meanwhile_is_refused_by_the_conditional_update(member, sku):
    # The checkout saw a free place; another buyer took it before the order was written.
    slot = make_slot(sku.shop, capacity=1)
    plan = actions.check_checkout(
        member,
        sku_id=sku.pk,
        fulfilment="delivery",
        payment_method="sandbox",
        address_id=member.addresses.get().pk,
        delivery_slot_id=slot.pk,
    )
    DeliverySlot.objects.filter(pk=slot.pk).update(booked=1)
    with pytest.raises(SlotFull):
        actions.do_create_order(plan)
    assert Order.objects.count() == 0
    sku.refresh_from_db()
    assert sku.stock == 10


def test_closed_and_past_cutoff_slots_are_refused(member, sku):
    closed = make_slot(sku.shop, is_open=False)
    with pytest.raises(SlotClosed) as raised:
        place_order(member, sku, delivery_slot_id=closed.pk)
    assert raised.value.code == "slot_closed"

    slot = make_slot(sku.shop, days_ahead=2)
    with time_machine.travel(slot.cutoff_at + timedelta(seconds=1), tick=False), pytest.raises(SlotClosed) as raised:
        place_order(member, sku, delivery_slot_id=slot.pk)
    assert "已截单" in raised.value.message
    assert booked(slot) == 0


def test_another_shops_slot_looks_missing(member, sku):
    foreign = make_slot(make_shop())
    with pytest.raises(SlotNotFound) as raised:
        place_order(member, sku, delivery_slot_id=foreign.pk)
    assert raised.value.status == 404


def test_cancel_and_close_give_the_place_back_once(member, sku):
    slot = make_slot(sku.shop, capacity=5)
    cancelled = place_order(member, sku, delivery_slot_id=slot.pk)
    expiring = place_order(make_member(), sku, delivery_slot_id=slot.pk)
    kept = place_order(make_member(), sku, delivery_slot_id=slot.pk, payment_method="cod")  # never expires
    assert booked(slot) == 3

    actions.cancel_order_by_member(member, cancelled.number)
    assert booked(slot) == 2
    assert expiring.expires_at is not None
    later = expiring.expires_at + timedelta(minutes=1)
    assert actions.close_unpaid_order(expiring.pk, now=later) is True
    assert actions.close_unpaid_order(expiring.pk, now=later) is False
    assert actions.close_expired_orders(now=later) == 0
    assert booked(slot) == 1
    assert Order.objects.get(pk=kept.pk).delivery_slot_id == slot.pk

    # A late payment of the closed order takes its place again.
    assert actions.reinstate_closed_order(expiring) is True
    assert booked(slot) == 2


def test_a_late_payment_is_not_reinstated_into_a_full_slot(sku):
    slot = make_slot(sku.shop, capacity=1)
    expiring = place_order(make_member(), sku, delivery_slot_id=slot.pk)
    assert expiring.expires_at is not None
    actions.close_unpaid_order(expiring.pk, now=expiring.expires_at + timedelta(minutes=1))
    place_order(make_member(), sku, delivery_slot_id=slot.pk)  # the freed place is taken
    assert actions.reinstate_closed_order(Order.objects.get(pk=expiring.pk)) is False
    assert booked(slot) == 1
    assert Order.objects.get(pk=expiring.pk).status == "closed"


# --- the quote offers the choices -----------------------------------------------------------


def test_the_quote_offers_bookable_slots_only(member, sku):
    shop = sku.shop
    shop.delivery_slots_required = True
    shop.save()
    later = make_slot(shop, days_ahead=2, capacity=3)
    soon = make_slot(shop, days_ahead=1, capacity=50)
    make_slot(shop, days_ahead=1, starts_at="14:00", ends_at="17:00", capacity=1, booked=1)  # full
    make_slot(shop, days_ahead=1, starts_at="18:00", ends_at="20:00", is_open=False)  # closed
    make_slot(shop, days_ahead=1, starts_at="20:00", ends_at="21:00", cutoff_at=timezone.now())  # past cut-off
    DeliverySlot.objects.filter(pk=later.pk).update(booked=1)

    headers = auth_headers(member)
    body = {"sku_id": sku.pk, "fulfilment": "delivery", "payment_method": "sandbox"}
    quote = Client().post(f"{API}/quote", body, content_type="application/json", headers=headers).json()
    assert quote["delivery_slot_required"] is True
    assert [(slot["id"], slot["places_left"]) for slot in quote["delivery_slots"]] == [(soon.pk, 50), (later.pk, 2)]
    assert quote["delivery_slots"][0]["label"] == soon.label
    assert quote["delivery_slots"][0]["starts_at"] == "09:00"
    assert quote["delivery_slot"] is None

    chosen = Client().post(
        f"{API}/quote", {**body, "delivery_slot_id": later.pk}, content_type="application/json", headers=headers
    )
    assert chosen.json()["delivery_slot"]["id"] == later.pk


@pytest.mark.parametrize(
    ("slot_fields", "status", "code"),
    [
        ({"capacity": 1, "booked": 1}, 409, "slot_full"),
        ({"is_open": False}, 409, "slot_closed"),
    ],
)
def test_quote_and_order_refuse_a_slot_alike(member, sku, slot_fields, status, code):
    slot = make_slot(sku.shop, **slot_fields)
    headers = auth_headers(member)
    body = {
        "sku_id": sku.pk,
        "fulfilment": "delivery",
        "payment_method": "sandbox",
        "address_id": member.addresses.get().pk,
        "delivery_slot_id": slot.pk,
    }
    for url in (f"{API}/quote", API):
        response = Client().post(url, body, content_type="application/json", headers=headers)
        assert (response.status_code, response.json()["code"]) == (status, code), url
    missing = Client().post(f"{API}/quote", {**body, "delivery_slot_id": 999_999}, content_type="application/json")
    assert missing.status_code == 401
    missing = Client().post(
        f"{API}/quote", {**body, "delivery_slot_id": 999_999}, content_type="application/json", headers=headers
    )
    assert (missing.status_code, missing.json()["code"]) == (404, "slot_not_found")


def test_a_pickup_point_order_with_a_slot_shows_it(member, sku):
    point = PickupPointFactory.create(shop=sku.shop)
    slot = make_slot(sku.shop)
    client = Client()
    client.force_login(member)
    order = place_order(member, sku, fulfilment="pickup", pickup_point_id=point.pk, delivery_slot_id=slot.pk)
    page = client.get(f"/orders/{order.number}/").content.decode()
    assert f'<span data-testid="order-slot">{slot.label}</span>' in page
    assert "自提时段" in page
