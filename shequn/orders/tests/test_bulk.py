"""Many orders at once (``create_orders``): the orders checkout makes, exact refusals, one
unpaid-close task per deadline, and a statement count that does not grow with the batch."""

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from shequn.catalog.models import Sku
from shequn.notifications.models import Notification
from shequn.orders import actions
from shequn.orders.actions import OrderRequest
from shequn.orders.enums import Fulfilment, OrderStatus
from shequn.orders.models import Order, OrderEvent, OrderLine, PurchaseCounter
from shequn.testing.factories import PickupPointFactory
from shequn.testing.orders import make_member, make_sku

pytestmark = pytest.mark.django_db

IGNORED = {"id", "number", "created_at", "expires_at", "user", "order"}


def request_for(user: Any, sku: Any, quantity: int = 1, **fields: Any) -> OrderRequest:
    fields.setdefault("fulfilment", Fulfilment.DELIVERY)
    fields.setdefault("address", user.addresses.first() if fields["fulfilment"] == Fulfilment.DELIVERY else None)
    fields.setdefault("payment_method", "sandbox")
    return OrderRequest(user=user, lines=[(sku.pk, quantity)], **fields)


def snapshot(row: Any) -> dict[str, Any]:
    return {f.attname: getattr(row, f.attname) for f in row._meta.concrete_fields if f.name not in IGNORED}


def test_orders_made_in_bulk_are_the_orders_checkout_makes(shop, django_capture_on_commit_callbacks):
    sku = make_sku(shop, price_fen=3500, stock=10, per_person_cap=5)
    by_checkout, in_bulk = make_member(), make_member()
    pay_by = timezone.now() + timedelta(minutes=10)
    trusted = {"unit_prices": {sku.pk: 2000}, "pay_by": pay_by}
    HUEY.storage.flush_schedule()
    with django_capture_on_commit_callbacks(execute=True):
        checked_out = actions.create_order(
            by_checkout,
            lines=[(sku.pk, 2)],
            fulfilment=Fulfilment.DELIVERY,
            address_id=by_checkout.addresses.get().pk,
            payment_method="sandbox",
            require_destination=False,
            **trusted,
        )
        (bulk,) = actions.create_orders([request_for(in_bulk, sku, 2, **trusted)])
    assert isinstance(bulk, Order)
    checked_out.refresh_from_db()
    bulk.refresh_from_db()
    assert snapshot(bulk) == snapshot(checked_out)
    assert bulk.user == in_bulk
    assert bulk.number != checked_out.number
    assert bulk.expires_at == checked_out.expires_at == pay_by
    assert [snapshot(line) for line in bulk.lines.all()] == [snapshot(line) for line in checked_out.lines.all()]
    assert [(e.from_status, e.to_status, e.actor_id, e.note) for e in OrderEvent.objects.filter(order=bulk)] == [
        ("", OrderStatus.PENDING_PAYMENT, in_bulk.pk, "买家提交订单")
    ]
    message = Notification.objects.get(user=in_bulk, kind="order.created")
    assert (message.title, message.body, message.link) == (
        "订单已提交",
        f"订单 {bulk.number} 待支付 ¥50.00，请在 10 分钟内完成支付。",
        reverse("orders:order_detail", args=[bulk.number]),
    )
    assert Sku.objects.get(pk=sku.pk).stock == 6
    assert PurchaseCounter.objects.get(user=in_bulk, product=sku.product).quantity == 2
    scheduled = [task.args for task in HUEY.scheduled() if task.name.endswith("close_expired_order")]
    assert sorted(scheduled) == sorted([(checked_out.pk,), (bulk.pk,)])
    HUEY.storage.flush_schedule()

    # The member's page and the pay/close life are checkout's.
    client = Client()
    client.force_login(in_bulk)
    page = client.get(reverse("orders:order_detail", args=[bulk.number]))
    assert page.status_code == 200
    assert "¥50.00" in page.content.decode()
    with time_machine.travel(pay_by + timedelta(seconds=1)):
        assert actions.close_unpaid_order(bulk.pk)
    assert Sku.objects.get(pk=sku.pk).stock == 8
    assert PurchaseCounter.objects.get(user=in_bulk, product=sku.product).quantity == 0


def test_stock_short_for_the_batch_refuses_exactly_the_orders_beyond_it(shop):
    sku = make_sku(shop, stock=4)
    members = [make_member() for _ in range(4)]
    # 2 + 1 + 2 + 1 units wanted, 4 in stock: the third (2) does not fit, the fourth (1) does.
    created = actions.create_orders([request_for(m, sku, q) for m, q in zip(members, (2, 1, 2, 1), strict=True)])
    assert [type(outcome).__name__ for outcome in created] == ["Order", "Order", "SoldOut", "Order"]
    assert Sku.objects.get(pk=sku.pk).stock == 0
    assert Order.objects.count() == 3
    assert OrderLine.objects.count() == 3
    assert PurchaseCounter.objects.filter(user=members[2], quantity__gt=0).count() == 0  # its counter rolled back
    assert Notification.objects.filter(kind="order.created").count() == 3


def test_a_stock_taken_meanwhile_is_refused_at_the_update_not_only_by_the_early_read(shop):
    sku = make_sku(shop, stock=3)
    plans = actions.check_orders([request_for(make_member(), sku) for _ in range(3)])
    Sku.objects.filter(pk=sku.pk).update(stock=2)  # someone bought one after the plans were read
    created = actions.do_create_orders(plans)  # type: ignore[arg-type]
    assert [type(outcome).__name__ for outcome in created] == ["Order", "Order", "SoldOut"]
    assert Sku.objects.get(pk=sku.pk).stock == 0


def test_the_per_person_cap_counts_across_the_batch_and_past_orders(shop):
    sku = make_sku(shop, stock=50, per_person_cap=2)
    keen, returning, fresh = make_member(), make_member(), make_member()
    (earlier,) = actions.create_orders([request_for(returning, sku, 2)])
    assert isinstance(earlier, Order)
    created = actions.create_orders(
        [
            request_for(keen, sku, 1),
            request_for(keen, sku, 1),
            request_for(keen, sku, 1),  # the third unit is over the cap of 2
            request_for(returning, sku, 1),  # holds 2 already
            request_for(fresh, sku, 3),  # over the cap alone
        ]
    )
    assert [getattr(outcome, "code", "order") for outcome in created] == [
        "order",
        "order",
        "purchase_cap_exceeded",
        "purchase_cap_exceeded",
        "purchase_cap_exceeded",
    ]
    assert str(created[3]) == f"「{sku.product.title}」每人限购 2 件，你已购买过"
    held = dict(PurchaseCounter.objects.filter(product=sku.product).values_list("user_id", "quantity"))
    assert held == {keen.pk: 2, returning.pk: 2}
    assert Sku.objects.get(pk=sku.pk).stock == 50 - 4


def test_requests_checkout_would_refuse_are_refused_with_its_errors(shop):
    sku = make_sku(shop, stock=10)
    banned = make_member(is_active=False)
    nowhere = make_member()
    foreign_point = PickupPointFactory.create()  # of another shop
    ok = make_member()
    created = actions.create_orders(
        [
            request_for(banned, sku),
            request_for(nowhere, sku, address=None),
            request_for(nowhere, sku, fulfilment=Fulfilment.PICKUP, pickup_point=foreign_point),
            request_for(ok, sku, address=nowhere.addresses.get()),  # not the buyer's address
            request_for(ok, sku, 100),
            request_for(ok, sku),
        ]
    )
    assert [getattr(outcome, "code", "order") for outcome in created] == [
        "account_inactive",
        "address_required",
        "pickup_point_required",
        "address_required",
        "invalid_quantity",
        "order",
    ]
    assert Sku.objects.get(pk=sku.pk).stock == 9


def test_order_numbers_stay_unique_when_the_random_part_repeats(shop, monkeypatch):
    sku = make_sku(shop, stock=10)
    (first,) = actions.create_orders([request_for(make_member(), sku)])
    assert isinstance(first, Order)
    taken = first.number
    draws = iter([[taken, taken[:-1] + "x"], ["fresh-number-1"]])
    monkeypatch.setattr(actions, "readable_numbers", lambda count, avoid=(): next(draws))
    created = actions.create_orders([request_for(make_member(), sku), request_for(make_member(), sku)])
    assert sorted(order.number for order in created if isinstance(order, Order)) == sorted(
        ["fresh-number-1", taken[:-1] + "x"]
    )


def test_one_batch_takes_the_same_statements_whatever_its_size(shop):
    sku = make_sku(shop, stock=1000, per_person_cap=5)
    point = PickupPointFactory.create(shop=shop)

    def statements(size: int) -> list[str]:
        requests = [request_for(make_member(), sku) for _ in range(size - 1)]
        requests.append(request_for(make_member(), sku, fulfilment=Fulfilment.PICKUP, pickup_point=point))
        with CaptureQueriesContext(connection) as queries:
            created = actions.create_orders(requests)
        assert all(isinstance(order, Order) for order in created)
        return [query["sql"].split(None, 1)[0] for query in queries.captured_queries]

    statements(1)  # the shop's first batch also asks whether it has member-card levels (then cached)
    small, large = statements(3), statements(40)
    assert small == large
    assert len(small) <= 16


def test_a_group_committed_batch_checks_each_checkout_as_it_would_be_checked_alone(shop):
    # ``_write_checkouts`` reads SKUs, pickup points, addresses and memberships once for the
    # batch (ADR 0013); each checkout still gets exactly the order or refusal it gets alone.
    from shequn.core.errors import DomainError
    from shequn.testing.factories import MembershipFactory

    sku = make_sku(shop, price_fen=3500, stock=4)
    Sku.objects.filter(pk=sku.pk).update(member_price_fen=2900)
    sku.refresh_from_db()
    off_shelf = make_sku(shop, on_shelf=False)
    point = PickupPointFactory.create(shop=shop)
    closed_point = PickupPointFactory.create(shop=shop, is_active=False)
    foreign_point = PickupPointFactory.create()
    member, other, plain = make_member(), make_member(), make_member()
    MembershipFactory.create(user=member, community__shop=shop)
    pickup = {"fulfilment": "pickup", "payment_method": "sandbox", "sku_id": sku.pk}
    checkouts: list[tuple[Any, dict[str, Any]]] = [
        (member, {**pickup, "pickup_point_id": point.pk}),  # a member: the member price
        (plain, {**pickup, "pickup_point_id": point.pk}),  # not a member: the shelf price
        (plain, {**pickup, "pickup_point_id": closed_point.pk}),
        (plain, {**pickup, "pickup_point_id": foreign_point.pk}),
        (plain, {**pickup, "sku_id": off_shelf.pk, "pickup_point_id": point.pk}),
        (plain, {**pickup, "fulfilment": "delivery", "address_id": other.addresses.get().pk}),  # another's address
        (other, {**pickup, "fulfilment": "delivery", "address_id": other.addresses.get().pk, "quantity": 2}),
        (member, {**pickup, "pickup_point_id": point.pk}),  # the fifth unit of four
    ]
    alone: list[str] = []
    for user, checkout in checkouts:
        try:
            plan = actions.check_checkout(user, **checkout)
            alone.append(f"{plan.lines[0].unit_price_fen}")
        except DomainError as error:
            alone.append(error.code)

    outcomes = actions._write_checkouts([(user, checkout, None) for user, checkout in checkouts])

    def told(outcome: Any) -> str:
        return outcome.code if isinstance(outcome, DomainError) else f"{outcome.lines.get().unit_price_fen}"

    assert alone == ["2900", "3500", "pickup_point_required", "pickup_point_required", "product_unavailable",
                     "address_required", "3500", "2900"]  # fmt: skip
    assert [told(outcome) for outcome in outcomes] == [*alone[:-1], "sold_out"]
    assert Sku.objects.get(pk=sku.pk).stock == 0
