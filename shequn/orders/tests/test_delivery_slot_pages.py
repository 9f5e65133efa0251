"""Delivery slots on the pages: the member picks one at checkout and sees it on the order; the
console order list shows and filters by slot; the slot's pick list lists what to pack."""

import pytest
from django.urls import reverse

from shequn.orders import actions
from shequn.orders.models import Order
from shequn.testing.orders import make_member, make_slot, paid_order, place_order, staff_client

pytestmark = pytest.mark.django_db


def checkout_form(member, sku, **extra):
    return {
        "sku": sku.pk,
        "quantity": 1,
        "fulfilment": "delivery",
        "address_id": member.addresses.get().pk,
        "payment_method": "sandbox",
        **extra,
    }


def test_the_member_picks_a_slot_at_checkout_and_sees_it_on_the_order(member_client, member, sku):
    sku.shop.delivery_slots_required = True
    sku.shop.save()
    tomorrow = make_slot(sku.shop, days_ahead=1, capacity=50)
    make_slot(sku.shop, days_ahead=1, starts_at="14:00", ends_at="17:00", capacity=1, booked=1)  # full: not offered

    page = member_client.get(reverse("orders:checkout") + f"?sku={sku.pk}").content.decode()
    assert page.count('data-testid="slot-option"') == 1
    assert f'data-label="{tomorrow.label}"' in page
    assert "剩 50 单" in page
    assert "（快递配送必选）" in page

    # Without a slot: refused on the form, input kept.
    response = member_client.post(reverse("orders:checkout"), checkout_form(member, sku, buyer_note="早点送"))
    assert response.status_code == 422
    assert 'data-code="slot_required"' in response.content.decode()
    assert "早点送" in response.content.decode()

    response = member_client.post(reverse("orders:checkout"), checkout_form(member, sku, delivery_slot_id=tomorrow.pk))
    assert response.status_code == 302
    order = Order.objects.get(user=member)
    assert order.delivery_slot_label == tomorrow.label
    detail = member_client.get(response["Location"]).content.decode()
    assert f'<span data-testid="order-slot">{tomorrow.label}</span>' in detail
    assert "配送时段" in detail


def test_a_full_slot_is_refused_clearly_on_the_page(member_client, member, sku):
    slot = make_slot(sku.shop, capacity=1)
    place_order(make_member(), sku, delivery_slot_id=slot.pk)
    response = member_client.post(reverse("orders:checkout"), checkout_form(member, sku, delivery_slot_id=slot.pk))
    assert response.status_code == 409
    page = response.content.decode()
    assert 'data-code="slot_full"' in page
    assert f"「{slot.label}」已约满，请选择其他时段" in page


def test_the_console_order_list_shows_and_filters_by_slot(member, sku):
    morning = make_slot(sku.shop, starts_at="09:00", ends_at="12:00")
    evening = make_slot(sku.shop, starts_at="18:00", ends_at="20:00")
    in_morning = place_order(member, sku, delivery_slot_id=morning.pk)
    in_evening = place_order(make_member(), sku, delivery_slot_id=evening.pk)
    no_slot = place_order(make_member(), sku)
    client = staff_client(sku.shop)

    everything = client.get(reverse("orders:console_orders")).content.decode()
    assert all(order.number in everything for order in (in_morning, in_evening, no_slot))
    assert f'<td data-testid="console-order-slot">{morning.label}</td>' in everything
    assert f"{morning.label}（1/50）" in everything  # the filter's choices show places taken

    filtered = client.get(reverse("orders:console_orders") + f"?slot={morning.pk}").content.decode()
    assert in_morning.number in filtered
    assert in_evening.number not in filtered
    assert no_slot.number not in filtered

    api = client.get("/api/v1/orders/console/orders", {"delivery_slot_id": evening.pk}).json()
    assert [row["number"] for row in api["items"]] == [in_evening.number]
    assert api["items"][0]["delivery_slot"]["label"] == evening.label

    detail = client.get(reverse("orders:console_order_detail", args=[in_morning.pk])).content.decode()
    assert f'<span data-testid="order-slot">{morning.label}</span>' in detail


def test_the_slot_pick_list_lists_what_to_pack(member, sku):
    slot = make_slot(sku.shop)
    paid = paid_order(member, sku, 2, delivery_slot_id=slot.pk)
    cod = place_order(make_member(), sku, 1, delivery_slot_id=slot.pk, payment_method="cod")
    unpaid = place_order(make_member(), sku, 1, delivery_slot_id=slot.pk)
    cancelled = place_order(make_member(), sku, 1, delivery_slot_id=slot.pk, payment_method="cod")
    actions.cancel_order_by_member(cancelled.user, cancelled.number)
    client = staff_client(sku.shop, role="service")

    overview = client.get(reverse("fulfilment:console_slot_pick_lists")).content.decode()
    assert slot.label in overview
    assert "3 / 50" in overview  # paid, COD and the unpaid order hold places; the cancelled one gave it back

    page = client.get(reverse("fulfilment:console_slot_pick_list", args=[slot.pk])).content.decode()
    assert f'<span data-testid="slot-label">{slot.label}</span>' in page
    assert paid.number in page
    assert cod.number in page
    assert unpaid.number not in page
    assert cancelled.number not in page
    assert f"{sku.product.title} {sku.spec} ×3" in page

    csv = client.get(reverse("fulfilment:console_slot_pick_list", args=[slot.pk]) + "?format=csv")
    text = csv.content.decode("utf-8-sig")
    assert text.splitlines()[0] == "订单号,买家,收货地址 / 自提点,商品,规格,数量,状态"
    assert len(text.splitlines()) == 3


def test_another_shops_slot_pick_list_is_404(sku):
    from shequn.testing.orders import make_shop

    foreign = make_slot(make_shop())
    client = staff_client(sku.shop)
    assert client.get(reverse("fulfilment:console_slot_pick_list", args=[foreign.pk])).status_code == 404
