"""The consumer writes claims in batches: exact outcomes for every kind of claim, a statement count
that does not grow with the batch, one bad claim does not hold back the others, and orders made
in bulk live the life of checkout's (page, pay, close → the unit back once)."""

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import DatabaseError, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from shequn.flashsales import actions
from shequn.flashsales.enums import ClaimStatus
from shequn.flashsales.models import FlashClaim, FlashEvent, pool_key
from shequn.gate.base import PoolSpec
from shequn.orders.actions import close_unpaid_order
from shequn.orders.enums import Fulfilment, OrderStatus
from shequn.orders.models import Order
from shequn.testing.factories import PickupPointFactory, SkuFactory
from shequn.testing.orders import place_order

from .conftest import buyer, item_of, make_running
from .test_actions import pay

pytestmark = pytest.mark.django_db

NO_ADDRESS = "你还没有收货地址，名额已释放；请先添加收货地址"


def mixed_batch(shop: Any, other_shop: Any, operator: Any, other_operator: Any, gate: Any, commit: Any) -> None:
    PickupPointFactory.create(shop=shop)  # the other shop has none
    sku = SkuFactory.create(product__shop=shop, price_fen=199900, stock=100)
    other_sku = SkuFactory.create(product__shop=other_shop, price_fen=199900, stock=100)
    item = item_of(make_running(shop, operator, sku, commit, quantity=4))
    other_item = item_of(make_running(other_shop, other_operator, other_sku, commit, quantity=4))
    # The pool was rebuilt while a claim was in flight: the gate holds more units than the table allows.
    gate.configure(actions._spec(item, 10))
    now = timezone.now()
    gate.configure(PoolSpec(key="groupbuy:1", units=5, per_member_cap=1, opens_at=now, closes_at=now + timedelta(1)))

    earlier = buyer("早到")
    actions.attempt(earlier, item.pk)
    (delivered,) = gate.read_claims("flash", "dead-consumer")  # written by a consumer that died before acking
    with commit():
        assert actions._materialise(delivered) == "ordered"
    first, second, walker = buyer("甲"), buyer("乙"), buyer("自提", address=False)
    banned, late = buyer("封禁"), buyer("超出")
    banned.is_active = False
    banned.save(update_fields=["is_active"])
    # In stream order: the banned member's claim holds nothing, so the walker's fits and the last is surplus.
    for member in (first, second, banned, walker, late):
        actions.attempt(member, item.pk)
    nowhere, other_buyer = buyer("无处", address=False), buyer("别家")
    for member in (nowhere, other_buyer):
        actions.attempt(member, other_item.pk)
    assert gate.attempt("groupbuy:1", first.pk).admitted  # another owner's claim in the same stream

    with commit():
        result = actions.materialise_claims(consumer="b", idle_ms=0)

    assert (result.ordered, result.released, result.duplicates) == (4, 3, 1)
    assert Order.objects.count() == 5  # the earlier claim's, and one per ordered claim
    claims = {claim.user_id: claim for claim in FlashClaim.objects.all()}
    assert len(claims) == 8
    for member in (earlier, first, second, walker, other_buyer):
        claim = claims[member.pk]
        assert (claim.status, claim.reason) == (ClaimStatus.ORDERED, "")
        assert claim.order is not None
        assert claim.order.user_id == member.pk
    assert Order.objects.get(user=walker).fulfilment == Fulfilment.PICKUP
    assert Order.objects.get(user=first).fulfilment == Fulfilment.DELIVERY
    assert Order.objects.get(user=first).lines.get().unit_price_fen == 99900
    released = {
        member.nickname: (claims[member.pk].status, claims[member.pk].reason) for member in (banned, late, nowhere)
    }
    assert released == {
        banned.nickname: (ClaimStatus.RELEASED, "账号不可用，名额已释放"),
        late.nickname: (ClaimStatus.RELEASED, "已抢光"),
        nowhere.nickname: (ClaimStatus.RELEASED, NO_ADDRESS),
    }
    history = set(
        FlashEvent.objects.filter(claim__isnull=False).values_list("claim__user_id", "from_status", "to_status")
    )
    assert history == {
        *((m.pk, ClaimStatus.ADMITTED, ClaimStatus.ORDERED) for m in (earlier, first, second, walker, other_buyer)),
        *((m.pk, ClaimStatus.ADMITTED, ClaimStatus.RELEASED) for m in (banned, late, nowhere)),
    }
    # The banned member's unit went back; the surplus one stays taken (the gate had one too many).
    assert gate.state(pool_key(item.pk)).units_left == 10 - 6 + 1
    assert gate.state(pool_key(other_item.pk)).units_left == 4 - 2 + 1
    assert actions.reconcile(other_item).ok
    sku.refresh_from_db()
    assert sku.stock == 100 - 4
    # The other owner's claim is in its own stream: the flash consumer never saw it; its owner reads it.
    assert gate.pending_claims("flash", "flash-later", idle_ms=0) == []
    assert [claim.pool_key for claim in gate.read_claims("groupbuy", "groupbuy-consumer")] == ["groupbuy:1"]


def test_a_batch_of_mixed_claims_gives_exact_counts(shop, other_shop, operator, other_operator, gate, commit, sandbox):
    mixed_batch(shop, other_shop, operator, other_operator, gate, commit)


def statement(sql: str) -> str:
    """``INSERT orders_order``, ``SAVEPOINT`` ...: the verb and the first table, without values."""
    verb = sql.split(None, 1)[0].upper()
    table = re.search(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', sql)
    return f"{verb} {table.group(1) if table and verb not in ('SAVEPOINT', 'RELEASE') else ''}".strip()


# One batch of any size (under pytest the outer transaction shows as SAVEPOINT/RELEASE).
BATCH = [
    "SAVEPOINT",  # the batch's transaction
    "SELECT flashsales_flashitem",  # the items, locked in primary-key order
    "SELECT flashsales_flashclaim",  # claim ids already written (a claim delivered twice)
    "SELECT flashsales_flashclaim",  # units held by live claims, per item
    "SELECT accounts_address",  # the members' addresses, the default first
    "SELECT shops_pickuppoint",  # each shop's first active pickup point
    "SELECT accounts_user",  # the members (active or not)
    "SELECT catalog_sku",  # orders.check_orders: the SKUs with product and shop
    # orders.do_create_orders: no savepoint of its own inside the batch's transaction
    "SELECT accounts_user",  # the buyers' rows locked, still active (account deletion waits, or they are refused)
    "SAVEPOINT",  # counters and stock, undone as a whole when some orders must be refused
    "INSERT orders_purchasecounter",  # one upsert per product, within the cap
    "UPDATE catalog_sku",  # one conditional F() update per SKU, the batch's units summed
    "RELEASE",
    "SELECT orders_order",  # are the drawn order numbers free?
    "SAVEPOINT",  # numbers may still collide with a parallel checkout: retried
    "INSERT orders_order",
    "RELEASE",
    "INSERT orders_orderline",
    "INSERT orders_orderevent",  # each order's first event
    "INSERT notifications_notification",  # each member's inbox message
    "INSERT flashsales_flashclaim",  # the claims in their final status, ON CONFLICT DO NOTHING
    "INSERT flashsales_flashevent",  # each claim's history
    "RELEASE",  # commit; then the gate gets released units back and the batch is acknowledged
]


def test_one_batch_takes_the_same_statements_whatever_its_size(shop, operator, sku, gate, commit, sandbox):
    item = item_of(make_running(shop, operator, sku, commit, quantity=60))

    def statements(size: int) -> list[str]:
        for n in range(size):
            actions.attempt(buyer(f"买家{size}-{n}"), item.pk)
        with CaptureQueriesContext(connection) as queries, commit():
            assert actions.materialise_claims().ordered == size
        return [statement(query["sql"]) for query in queries.captured_queries]

    statements(1)  # the shop's first batch also asks whether it has member-card levels (then cached)
    assert statements(3) == statements(30) == BATCH
    assert Order.objects.count() == 34


def test_a_batch_that_fails_is_written_claim_by_claim_and_the_bad_claim_waits(
    running, gate, commit, monkeypatch, caplog
):
    item = item_of(running)
    good, bad = buyer("好"), buyer("坏")
    actions.attempt(good, item.pk)
    actions.attempt(bad, item.pk)
    real = actions.order_actions.create_orders

    def failing(requests):
        if any(request.user.pk == bad.pk for request in requests):
            raise DatabaseError("deadlock detected")
        return real(requests)

    monkeypatch.setattr(actions.order_actions, "create_orders", failing)
    with commit():
        result = actions.materialise_claims()
    assert (result.ordered, result.released, result.duplicates) == (1, 0, 0)
    assert FlashClaim.objects.get().user_id == good.pk
    assert "left at the gate" in caplog.text
    (waiting,) = gate.pending_claims("flash", "later", idle_ms=0)  # not acknowledged: delivered again later
    assert waiting.member_id == bad.pk
    monkeypatch.setattr(actions.order_actions, "create_orders", real)
    with commit():
        assert actions.materialise_claims(idle_ms=0).ordered == 1
    assert Order.objects.count() == 2


def test_orders_made_in_bulk_live_the_life_of_checkouts(running, gate, commit):
    item = item_of(running)
    payer, sleeper = buyer("付款"), buyer("睡着")
    actions.attempt(payer, item.pk)
    actions.attempt(sleeper, item.pk)
    with commit():
        assert actions.materialise_claims().ordered == 2
    paid, unpaid = Order.objects.get(user=payer), Order.objects.get(user=sleeper)
    client = Client()
    client.force_login(payer)
    page = client.get(reverse("orders:order_detail", args=[paid.number])).content.decode()
    assert paid.number in page
    assert "¥999.00" in page
    pay(paid, commit)
    paid.refresh_from_db()
    assert paid.status == OrderStatus.PAID
    assert unpaid.expires_at is not None
    with commit(), time_machine.travel(unpaid.expires_at + timedelta(seconds=1)):
        assert close_unpaid_order(unpaid.pk)
        assert not close_unpaid_order(unpaid.pk)
    claim = FlashClaim.objects.get(user=sleeper)
    assert (claim.status, claim.reason) == (ClaimStatus.RELEASED, "超时未支付，名额已释放")
    assert gate.state(pool_key(item.pk)).units_left == 3 - 2 + 1
    assert actions.reconcile(item).ok


def test_a_refused_order_next_to_a_surplus_claim_is_decided_claim_by_claim(shop, operator, gate, commit, sandbox):
    # The gate admitted one claim too many (a rebuilt pool). In one batch the third claim looks
    # surplus, but the first member cannot have an order (the product's cap, reached at checkout
    # before): counted one claim at a time the third fits, and the books balance.
    PickupPointFactory.create(shop=shop)
    sku = SkuFactory.create(product__shop=shop, product__per_person_cap=1, price_fen=199900, stock=100)
    item = item_of(make_running(shop, operator, sku, commit, quantity=2))
    gate.configure(actions._spec(item, 3))
    capped, second, third = buyer("已买过"), buyer("乙"), buyer("丙")
    place_order(capped, sku)
    for member in (capped, second, third):
        actions.attempt(member, item.pk)
    with commit():
        result = actions.materialise_claims()
    assert (result.ordered, result.released, result.duplicates) == (2, 1, 0)
    claims = {claim.user_id: claim for claim in FlashClaim.objects.all()}
    assert claims[capped.pk].status == ClaimStatus.RELEASED
    assert claims[capped.pk].reason == f"「{sku.product.title}」每人限购 1 件，你已购买过"
    assert {claims[second.pk].status, claims[third.pk].status} == {ClaimStatus.ORDERED}
    assert gate.state(pool_key(item.pk)).units_left == 3 - 3 + 1


def test_the_same_claim_twice_in_one_batch_makes_one_order(running, gate, commit):
    item = item_of(running)
    actions.attempt(buyer(), item.pk)
    (claim,) = gate.read_claims("flash", "reader")
    with commit():
        assert actions._materialise_batch([claim, claim]) == ["ordered", "duplicates"]
        assert actions._materialise_batch([claim]) == ["duplicates"]
    assert Order.objects.count() == 1
    assert FlashClaim.objects.get().claim_id == claim.claim_id
