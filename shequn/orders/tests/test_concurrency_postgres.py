"""Races that only a real engine shows (SQLite serialises every writer). Run with scripts/with-postgres."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection, connections

from shequn.accounts.models import Address, User
from shequn.catalog.models import Sku
from shequn.core.errors import Conflict, InvalidTransition
from shequn.core.idempotency import Once, once
from shequn.core.models import IdempotencyKey
from shequn.orders import actions
from shequn.orders.enums import OrderStatus
from shequn.orders.errors import PurchaseCapExceeded, SlotFull, SoldOut
from shequn.orders.models import Order, OrderLine, PurchaseCounter
from shequn.testing.orders import make_member, make_shop, make_sku

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _buyers(count: int) -> list[tuple[User, Address]]:
    users = User.objects.bulk_create(
        [User(username=f"buyer{i}", phone=f"139{i:08d}", nickname=f"买家{i}") for i in range(count)]
    )
    addresses = Address.objects.bulk_create(
        [
            Address(
                user=user,
                recipient="买家",
                phone=user.phone or "",
                province_code="310000",
                province="上海市",
                city_code="310100",
                city="上海市",
                detail="张江路 1 号",
            )
            for user in users
        ]
    )
    return list(zip(users, addresses, strict=True))


def test_1000_concurrent_checkouts_for_100_units_sell_exactly_100():
    assert connection.vendor == "postgresql"
    shop = make_shop()
    sku = make_sku(shop, stock=100, title="限量帝王蟹")
    buyers = _buyers(1000)
    messages: set[str] = set()

    def attempt(buyer: tuple[User, Address]) -> str:
        user, address = buyer
        try:
            actions.create_order(
                user,
                sku_id=sku.pk,
                quantity=1,
                fulfilment="delivery",
                payment_method="sandbox",
                address_id=address.pk,
            )
            return "ordered"
        except SoldOut as error:
            messages.add(error.message)
            return "sold_out"
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(attempt, buyers))  # any other exception fails the test here

    assert outcomes.count("ordered") == 100
    assert outcomes.count("sold_out") == 900
    assert all("限量帝王蟹" in message for message in messages)
    assert Sku.objects.get(pk=sku.pk).stock == 0
    assert Order.objects.filter(shop=shop).count() == 100
    assert sum(OrderLine.objects.filter(sku=sku).values_list("quantity", flat=True)) == 100
    assert Order.objects.values("user").distinct().count() == 100


def test_one_member_racing_checkouts_cannot_pass_the_per_person_cap():
    assert connection.vendor == "postgresql"
    shop = make_shop()
    sku = make_sku(shop, stock=100, per_person_cap=3)
    member = make_member()
    address_id = member.addresses.get().pk

    def attempt(_: int) -> str:
        try:
            actions.create_order(
                member, sku_id=sku.pk, fulfilment="delivery", payment_method="sandbox", address_id=address_id
            )
            return "ordered"
        except PurchaseCapExceeded:
            return "capped"
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(attempt, range(20)))
    assert outcomes.count("ordered") == 3
    assert Sku.objects.get(pk=sku.pk).stock == 97
    assert PurchaseCounter.objects.get(user=member, product=sku.product).quantity == 3


def _race_close_and_cancel(order: Order, member: User) -> list[object]:
    """Two closers and the member's cancel start together on one expired order."""
    assert order.expires_at is not None
    later = order.expires_at + timedelta(seconds=1)
    start = threading.Barrier(3)
    results: list[object] = []

    def close() -> None:
        start.wait()
        try:
            results.append(actions.close_unpaid_order(order.pk, now=later))
        finally:
            connections.close_all()

    def cancel() -> None:
        start.wait()
        try:
            actions.cancel_order_by_member(member, order.number)
            results.append("cancelled")
        except InvalidTransition:
            results.append("too_late")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=close), threading.Thread(target=close), threading.Thread(target=cancel)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_close_racing_cancel_returns_the_stock_once():
    assert connection.vendor == "postgresql"
    shop = make_shop()
    sku = make_sku(shop, stock=100)
    member = make_member()
    address_id = member.addresses.get().pk
    for _ in range(10):
        order = actions.create_order(
            member, sku_id=sku.pk, quantity=5, fulfilment="delivery", payment_method="sandbox", address_id=address_id
        )
        results = _race_close_and_cancel(order, member)
        order.refresh_from_db()
        assert order.status in (OrderStatus.CLOSED, OrderStatus.CANCELLED)
        winners = [result for result in results if result is True or result == "cancelled"]
        assert len(winners) == 1, results
        assert len(results) == 3
        assert Sku.objects.get(pk=sku.pk).stock == 100


def test_200_buyers_racing_for_the_last_10_places_of_a_slot_get_exactly_10():
    # ADR 0007: a slot's place moves by one conditional UPDATE, like stock; plenty of stock here,
    # so the slot alone decides. Then places given back by cancellations (racing the sweeper)
    # return exactly once, and the next rush gets exactly those.
    from shequn.shops.models import DeliverySlot
    from shequn.testing.orders import make_slot

    assert connection.vendor == "postgresql"
    shop = make_shop()
    sku = make_sku(shop, stock=1000, title="明日达三文鱼")
    slot = make_slot(shop, capacity=15)
    buyers = _buyers(225)

    def attempt(buyer: tuple[User, Address]) -> str:
        user, address = buyer
        try:
            actions.create_order(
                user,
                sku_id=sku.pk,
                fulfilment="delivery",
                payment_method="sandbox",
                address_id=address.pk,
                delivery_slot_id=slot.pk,
            )
            return "ordered"
        except SlotFull:
            return "slot_full"
        finally:
            connections.close_all()

    early = [attempt(buyer) for buyer in buyers[:5]]
    assert early == ["ordered"] * 5
    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(attempt, buyers[5:205]))  # any other exception fails the test here
    assert outcomes.count("ordered") == 10
    assert outcomes.count("slot_full") == 190
    assert DeliverySlot.objects.get(pk=slot.pk).booked == 15
    assert Order.objects.filter(delivery_slot=slot).count() == 15

    # Each of the 5 early orders is cancelled by its member while the sweeper closes it.
    early_orders = list(Order.objects.filter(user__in=[user for user, _ in buyers[:5]]))
    later = max(order.expires_at or order.created_at for order in early_orders) + timedelta(minutes=1)

    def release(job: tuple[str, Order]) -> str:
        how, order = job
        try:
            if how == "cancel":
                actions.cancel_order_by_member(order.user, order.number)
            else:
                actions.close_unpaid_order(order.pk, now=later)
            return "done"
        except InvalidTransition:
            return "lost"
        finally:
            connections.close_all()

    jobs = [(how, order) for order in early_orders for how in ("cancel", "close")]
    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(release, jobs))
    assert DeliverySlot.objects.get(pk=slot.pk).booked == 10
    assert Order.objects.filter(delivery_slot=slot, status__in=("cancelled", "closed")).count() == 5

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(attempt, buyers[205:]))
    assert outcomes.count("ordered") == 5
    assert outcomes.count("slot_full") == 15
    live = Order.objects.filter(delivery_slot=slot).exclude(status__in=("cancelled", "closed")).count()
    assert DeliverySlot.objects.get(pk=slot.pk).booked == live == 15
    assert Sku.objects.get(pk=sku.pk).stock == 1000 - 15


def test_checkouts_arriving_while_a_batch_is_written_are_written_together_each_order_whole(monkeypatch):
    # Group commit (ADR 0013): 40 members check out at once; the first batch is held until the
    # other 39 wait behind it, so they are written as one batch of 39, of which only 29 units fit.
    from shequn.notifications.models import Notification

    shop = make_shop()
    sku = make_sku(shop, stock=30, title="土鸡蛋")
    buyers = _buyers(40)
    batches: list[int] = []
    write = actions.do_create_orders

    def held_first(plans, **kwargs):
        if not batches:
            deadline = time.monotonic() + 30
            while len(actions._checkouts._queue) < 39:
                assert time.monotonic() < deadline, "the checkouts did not queue"
                time.sleep(0.005)
        batches.append(len(plans))
        return write(plans, **kwargs)

    monkeypatch.setattr(actions, "do_create_orders", held_first)
    start = threading.Barrier(40)

    def attempt(buyer: tuple[User, Address]) -> object:
        user, address = buyer
        start.wait()
        try:
            return actions.create_order(
                user, sku_id=sku.pk, fulfilment="delivery", payment_method="sandbox", address_id=address.pk
            )
        except SoldOut as error:
            return error
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=40) as pool:
        outcomes = list(pool.map(attempt, buyers))

    assert batches == [1, 39]
    orders = [outcome for outcome in outcomes if isinstance(outcome, Order)]
    assert len(orders) == 30
    assert sum(isinstance(outcome, SoldOut) for outcome in outcomes) == 10
    assert Sku.objects.get(pk=sku.pk).stock == 0
    for order in orders:  # each answer holds its own lines and event, as the tables do
        assert [(line.pk, line.quantity) for line in order.lines.all()] == list(
            OrderLine.objects.filter(order=order).values_list("pk", "quantity")
        )
        assert [event.to_status for event in order.events.all()] == [OrderStatus.PENDING_PAYMENT]
    buyer_ids = {order.user_id for order in orders}
    assert len(buyer_ids) == 30
    assert set(Order.objects.filter(shop=shop).values_list("user_id", flat=True)) == buyer_ids
    assert set(PurchaseCounter.objects.filter(product=sku.product).values_list("user_id", flat=True)) == buyer_ids
    assert (
        set(Notification.objects.filter(kind="order.created", shop=shop).values_list("user_id", flat=True)) == buyer_ids
    )
    assert Notification.objects.filter(kind="order.created", shop=shop).count() == 30


def _same_key_checkout(user: User, address: Address, sku: Sku) -> tuple[User, dict[str, object], Once]:
    """A checkout sent with the Idempotency-Key "same" (as ``POST /api/v1/orders`` sends it)."""
    checkout: dict[str, object] = {
        "sku_id": sku.pk,
        "fulfilment": "delivery",
        "payment_method": "sandbox",
        "address_id": address.pk,
    }
    request = once(
        user=user, scope="orders.create", key="same", payload=checkout, answer=lambda order: (201, order.number)
    )
    assert request is not None
    return user, checkout, request


def test_two_requests_with_the_same_key_in_one_batch_make_one_order_and_a_409(monkeypatch):
    # Group commit claims the keys in the batch's transaction (ADR 0013): a retry that arrives
    # while the first is still queued is in flight with it, so it gets 409, and one order is made.
    shop = make_shop()
    sku = make_sku(shop, stock=10, title="土鸡蛋")
    (first, first_address), (member, address) = _buyers(2)
    write = actions.do_create_orders

    holding = threading.Event()

    def held_first(plans, **kwargs):  # the first buyer's batch is written once both retries wait
        if plans[0].user == first:
            holding.set()
            deadline = time.monotonic() + 30
            while len(actions._checkouts._queue) < 2:
                assert time.monotonic() < deadline, "the retries did not queue"
                time.sleep(0.005)
        return write(plans, **kwargs)

    monkeypatch.setattr(actions, "do_create_orders", held_first)

    def lead() -> object:
        try:
            return actions.create_order(
                first, sku_id=sku.pk, fulfilment="delivery", payment_method="sandbox", address_id=first_address.pk
            )
        finally:
            connections.close_all()

    def retry(_: int) -> object:
        holding.wait()
        user, checkout, request = _same_key_checkout(member, address, sku)
        try:
            return actions.create_order_once(user, request, **checkout)
        except Conflict as error:
            return error.code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=3) as pool:
        led = pool.submit(lead)
        answers = list(pool.map(retry, range(2)))
    assert isinstance(led.result(), Order)
    number = Order.objects.get(user=member).number
    assert sorted(answers, key=str) == [(201, number), "idempotency_in_progress"]
    assert IdempotencyKey.objects.get(user=member, key="same").response_body == number
    assert Sku.objects.get(pk=sku.pk).stock == 8


def test_a_retry_racing_another_process_batch_waits_for_it_and_gets_its_answer(monkeypatch):
    # Two web processes each write their own batches: the same key claimed by both at once. The
    # second INSERT waits on the first batch's uncommitted key, then finds it answered: one order,
    # and the retry gets the first request's answer (never a second order, never a half answer).
    shop = make_shop()
    sku = make_sku(shop, stock=10, title="土鸡蛋")
    ((member, address),) = _buyers(1)
    item = _same_key_checkout(member, address, sku)
    write = actions.do_create_orders
    claimed = threading.Event()

    def held(plans, **kwargs):  # the first batch holds its claim until the second one waits on it
        if not claimed.is_set():
            claimed.set()
            deadline = time.monotonic() + 30
            while not _a_backend_waits_on_a_lock():
                assert time.monotonic() < deadline, "the second batch did not wait for the first"
                time.sleep(0.005)
        return write(plans, **kwargs)

    monkeypatch.setattr(actions, "do_create_orders", held)

    def first_process() -> object:
        try:
            return actions._write_checkouts([item])[0]
        finally:
            connections.close_all()

    def second_process() -> object:
        claimed.wait()
        try:
            return actions._write_checkouts([item])[0]
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        first, second = pool.submit(first_process), pool.submit(second_process)
        answers = [first.result(), second.result()]
    number = Order.objects.get(user=member).number
    assert answers == [(201, number), (201, number)]
    assert Sku.objects.get(pk=sku.pk).stock == 9


def _a_backend_waits_on_a_lock() -> bool:
    with connections["default"].cursor() as cursor:  # the caller's, in its transaction: a fresh snapshot
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
        (waiting,) = cursor.fetchone()
    return waiting > 0
