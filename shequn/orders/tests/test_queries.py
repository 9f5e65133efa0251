"""Pins the SQL of the hot path, POST /api/v1/orders, so a regression shows up as a diff here.

The benchmark (docs/benchmarks.md) found order creation bound by Python CPU, most of it the
ORM building statements: every extra query costs about as much as the rest of the request's
own Python. Change the expected list only on purpose, and say why in the commit.
"""

import re
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from shequn.orders.models import Order, PurchaseCounter
from shequn.testing.factories import PickupPointFactory
from shequn.testing.orders import auth_headers, make_member, make_shop, make_sku

pytestmark = pytest.mark.django_db

API = "/api/v1/orders"


def statement(sql: str) -> str:
    """``INSERT orders_order``, ``SAVEPOINT`` ...: the verb and the first table, without values."""
    verb = sql.split(None, 1)[0].upper()
    if verb in ("SAVEPOINT", "RELEASE", "ROLLBACK"):
        return verb
    table = re.search(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', sql)
    return f"{verb} {table.group(1) if table else '?'}"


def create(client, headers, body):
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            API, body, content_type="application/json", headers={**headers, "Idempotency-Key": uuid.uuid4().hex}
        )
    assert response.status_code == 201, response.content
    return [statement(query["sql"]) for query in queries.captured_queries]


def buy_now_at_a_pickup_point():
    """A shop with a SKU of 10 and a pickup point, a member with a token, and the "buy now" body."""
    shop = make_shop()
    sku = make_sku(shop, stock=10)
    member = make_member()
    point = PickupPointFactory.create(shop=shop)
    body = {"sku_id": sku.pk, "fulfilment": "pickup", "pickup_point_id": point.pk, "payment_method": "sandbox"}
    return shop, sku, member, auth_headers(member), body


# Under pytest the test runs inside a transaction, so each atomic block below shows as a
# SAVEPOINT/RELEASE pair; in production the outer ones are BEGIN/COMMIT (not captured here).
# The bearer token's caller comes from the cache (accounts.auth): no query after the first request.
EXPECTED = [
    "SAVEPOINT",  # idempotency: the key is claimed in its own short transaction,
    "INSERT core_idempotencykey",  # so a concurrent retry sees it at once (409)
    "RELEASE",
    "SELECT catalog_sku",  # the SKU with its product and shop (one join); no member price, so no membership query
    "SELECT shops_pickuppoint",  # the pickup point, of this shop and active
    "SAVEPOINT",  # the order transaction
    "SELECT accounts_user",  # the buyer's row locked, still active: account deletion waits, or this refuses
    "UPDATE orders_purchasecounter",  # per-person counter: quantity = quantity + n (WHERE within the cap)
    "SAVEPOINT",  # the order number may collide: inserted in a savepoint to retry
    "INSERT orders_order",
    "RELEASE",
    "INSERT orders_orderline",  # all lines in one bulk INSERT
    "INSERT orders_orderevent",  # the timeline's first event
    "INSERT notifications_notification",  # the inbox message (no re-read after commit: inbox only)
    "UPDATE catalog_sku",  # stock, last: SET stock = stock - n WHERE stock >= n (one per SKU, by pk)
    "RELEASE",  # commit; then the unpaid-close task is scheduled (Huey, not this database)
    "UPDATE core_idempotencykey",  # the response stored for replays; lines and timeline were not read back
]


def test_creating_an_order_takes_a_fixed_set_of_queries():
    _, sku, member, headers, body = buy_now_at_a_pickup_point()

    # The member's first order of this product creates their purchase counter: the UPDATE
    # finds no row, so the counter is inserted (in a savepoint: a parallel checkout may race).
    # It is also the token's first use: read with its user (one join), then cached for a minute,
    # and recorded once (then at most once a minute). And the shop's first checkout asks whether it
    # has member-card levels (then cached: a shop without levels asks nothing about cards, ADR 0020).
    first = create(client := Client(), headers, body)
    counter_at = EXPECTED.index("UPDATE orders_purchasecounter") + 1
    pickup_at = EXPECTED.index("SELECT shops_pickuppoint") + 1
    assert first == [
        "SELECT accounts_apitoken",
        "UPDATE accounts_apitoken",
        *EXPECTED[:pickup_at],
        "SELECT loyalty_memberlevel",
        *EXPECTED[pickup_at:counter_at],
        "SAVEPOINT",
        "INSERT orders_purchasecounter",
        "RELEASE",
        *EXPECTED[counter_at:],
    ]
    # Every later order: the counter exists, one conditional UPDATE.
    assert create(client, headers, body) == EXPECTED
    assert len(EXPECTED) == 17

    assert Order.objects.filter(user=member).count() == 2
    assert PurchaseCounter.objects.get(user=member, product=sku.product).quantity == 2
    sku.refresh_from_db()
    assert sku.stock == 8


@pytest.mark.parametrize(
    "written",
    [
        "inside a transaction: alone",
        pytest.param("outside one: by group commit", marks=pytest.mark.django_db(transaction=True)),
    ],
)
def test_the_response_is_built_from_the_rows_just_written(member, sku, written):
    # The create response's lines and timeline come from memory, not a re-read: they must
    # be what a later GET (which reads them back) returns.
    headers = auth_headers(member)
    point = PickupPointFactory.create(shop=sku.shop)
    body = {"sku_id": sku.pk, "quantity": 2, "fulfilment": "pickup", "pickup_point_id": point.pk}
    client = Client()
    created = client.post(
        API, {**body, "payment_method": "sandbox"}, content_type="application/json", headers=headers
    ).json()
    read_back = client.get(f"{API}/{created['number']}", headers=headers).json()
    assert created == read_back
    assert created["lines"][0]["id"] > 0
    assert [event["to_status"] for event in created["timeline"]] == ["pending_payment"]


def test_a_delivery_slot_adds_one_read_and_one_update_and_only_when_chosen():
    # ADR 0007: the slot is read with the checkout (to refuse a full or closed one early) and
    # takes its place with one conditional UPDATE, just before stock (lock order: counters,
    # slot, SKUs). An order without a slot runs exactly EXPECTED, even in a shop with slots.
    from shequn.testing.orders import make_slot

    shop, _, _, headers, body = buy_now_at_a_pickup_point()
    slot = make_slot(shop)
    client = Client()
    create(client, headers, body)  # the first order: token and counter set-up, pinned above
    assert create(client, headers, body) == EXPECTED

    with_slot = create(client, headers, {**body, "delivery_slot_id": slot.pk})
    pickup_at = EXPECTED.index("SELECT shops_pickuppoint") + 1
    stock_at = EXPECTED.index("UPDATE catalog_sku")
    assert (
        with_slot
        == [
            *EXPECTED[:pickup_at],
            "SELECT shops_deliveryslot",  # the chosen slot, of this shop
            *EXPECTED[pickup_at:stock_at],
            "UPDATE shops_deliveryslot",  # booked = booked + 1 WHERE open, before cut-off, booked < capacity
            *EXPECTED[stock_at:],
        ]
    )


@pytest.mark.django_db(transaction=True)
def test_a_checkout_outside_a_transaction_is_written_by_group_commit_in_a_fixed_set_of_queries():
    # A member's request is in no transaction: its order is written by group commit with the
    # checkouts other threads make at the same moment (alone here, a batch of one), through
    # ``do_create_orders``, whose statements do not grow with the batch (test_bulk.py).
    _, sku, member, headers, body = buy_now_at_a_pickup_point()
    client = Client()
    create(client, headers, body)  # the first order: token and counter set-up
    assert create(client, headers, body) == [
        "SELECT catalog_sku",  # the batch's reads, one per table for all its checkouts (read_for_checkouts)
        "SELECT shops_pickuppoint",
        "BEGIN ?",  # the batch's transaction, on the leading thread's connection
        "INSERT core_idempotencykey",  # the batch's keys claimed, one INSERT … ON CONFLICT DO NOTHING
        "SELECT accounts_user",  # the buyers' rows locked, still active (account deletion waits, or they are refused)
        "SAVEPOINT",  # counters then stock for the whole batch (undone to refuse what does not fit)
        "INSERT orders_purchasecounter",  # one upsert per product: quantity + n within the cap
        "UPDATE catalog_sku",  # one conditional F() update per SKU, the batch's units summed
        "RELEASE",
        "SELECT orders_order",  # the batch's order numbers, checked free in one read
        "SAVEPOINT",
        "INSERT orders_order",
        "RELEASE",
        "INSERT orders_orderline",
        "INSERT orders_orderevent",
        "INSERT notifications_notification",
        "UPDATE core_idempotencykey",  # the batch's answers stored, one UPDATE; key, order and answer commit together
        "COMMIT ?",
    ]
    assert Order.objects.filter(user=member).count() == 2
    assert PurchaseCounter.objects.get(user=member, product=sku.product).quantity == 2
    sku.refresh_from_db()
    assert sku.stock == 8
