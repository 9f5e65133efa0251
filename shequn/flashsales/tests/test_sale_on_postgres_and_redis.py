"""A whole flash sale on the scale-out stack (PostgreSQL pass, redis-server started by the test):
the admission gate is Redis, the orders are PostgreSQL rows.

1. 2,000 attempts at once for 100 units, 50 of them by one member racing with a cap of 2: exactly
   100 units admitted, the racer holds at most 2; consumers racing over the claims (one of them
   "crashed" after writing five orders without acknowledging them, so those five are delivered
   twice) write exactly one order per claim.
2. The unpaid orders close at their deadline: each unit returns to the gate once, and sells again.
3. redis-server is SIGKILLed in the middle of the next wave and started again empty: the gate is
   rebuilt from the database, nothing is oversold, every paid order is kept, the books balance.

Outcomes only: no wall-time bound, and no claim about which side of a race won.
"""

import random
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
import redis
import time_machine
from django.db import connections
from django.db.models import Sum

from shequn.accounts.models import User
from shequn.core.errors import DomainError
from shequn.flashsales import actions
from shequn.flashsales.enums import ClaimStatus
from shequn.flashsales.models import FlashClaim, pool_key
from shequn.gate.engine import use_gate
from shequn.gate.redis import RedisGate
from shequn.orders.actions import close_unpaid_order
from shequn.orders.models import Order
from shequn.testing.factories import PickupPointFactory
from shequn.testing.postgres import in_pool

from .conftest import item_of, make_running
from .test_actions import pay

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 32
QUANTITY = 100
CAP = 2


@pytest.fixture
def gate(redis_server):
    """Overrides the in-process gate of conftest: this sale's gate is a real Redis."""
    engine = RedisGate(redis_server.url)
    previous = use_gate(engine)
    yield engine
    use_gate(previous)
    engine.close_connections()


def in_parallel(calls: list[Any]) -> list[Any]:
    return in_pool(calls, WORKERS)


def members(prefix: str, count: int) -> list[User]:
    return User.objects.bulk_create([User(username=f"{prefix}{n}", nickname=f"{prefix}{n}") for n in range(count)])


def live_units(item: Any) -> int:
    live = FlashClaim.objects.filter(item=item, status__in=(ClaimStatus.ADMITTED, ClaimStatus.ORDERED))
    return live.aggregate(units=Sum("quantity"))["units"] or 0


def consume(workers: int = 4) -> int:
    """Consumers racing over the same claims, each taking over the others' deliveries at once."""

    def consumer(n: int) -> int:
        return actions.materialise_claims(consumer=f"c{n}", count=7, idle_ms=0).ordered

    return sum(in_parallel([lambda n=n: consumer(n) for n in range(workers)]))


def test_a_sale_on_postgresql_and_redis(shop, operator, sku, gate, commit, sandbox, redis_server):
    PickupPointFactory.create(shop=shop)
    sale = make_running(shop, operator, sku, commit, quantity=QUANTITY, cap=CAP)
    item = item_of(sale)
    key = pool_key(item.pk)

    # 1. 2,000 attempts at once, 50 of them by one racer.
    crowd = members("crowd", 1_950)
    racer = User.objects.create(username="racer", nickname="racer")

    def attempt(member: User) -> Callable[[], Any]:
        return lambda: actions.attempt(member, item.pk).claim_id

    calls = [attempt(m) for m in crowd] + [attempt(racer)] * 50
    random.Random(13).shuffle(calls)
    outcomes = in_parallel(calls)
    admitted = [o for o in outcomes if not o.startswith("flash_")]
    assert len(admitted) == QUANTITY
    assert len(set(admitted)) == QUANTITY
    assert set(Counter(o for o in outcomes if o.startswith("flash_"))) <= {"flash_sold_out", "flash_over_cap"}
    assert gate.state(key).units_left == 0

    crashed = gate.read_claims("flash", "crashed", count=5)  # a consumer wrote these, then died before its ack
    for claim in crashed:
        actions._materialise(claim)
    assert consume() == QUANTITY - 5  # the five crashed ones were taken over and found written
    assert Order.objects.count() == QUANTITY
    assert FlashClaim.objects.filter(status=ClaimStatus.ORDERED).count() == QUANTITY
    assert FlashClaim.objects.filter(user=racer).count() <= CAP
    assert actions.reconcile(item).ok

    # 2. 40 orders are paid; the other 60 close at their deadline, each unit back once.
    orders = list(Order.objects.order_by("pk"))
    for order in orders[:40]:
        pay(order, commit)
    paid = set(Order.objects.filter(paid_at__isnull=False).values_list("pk", flat=True))
    assert len(paid) == 40
    deadline = max(o.expires_at for o in orders if o.expires_at is not None) + timedelta(seconds=1)
    unpaid = [o.pk for o in orders[40:]]
    with time_machine.travel(deadline):
        closed = in_parallel([lambda pk=pk: close_unpaid_order(pk) for pk in unpaid + unpaid])
    assert closed.count(True) == 60
    assert gate.state(key).units_left == 60
    assert actions.reconcile(item).ok

    # 3. A second wave buys those 60 units again; Redis dies (SIGKILL) in the middle of it.
    wave = iter(members("wave", 1_000))
    taking = threading.Lock()
    killed = threading.Event()
    outcomes_after: Counter[str] = Counter()

    def hammer() -> None:
        try:
            while True:
                with taking:
                    member = next(wave, None)
                if member is None:
                    return
                try:
                    actions.attempt(member, item.pk)
                    outcome = "admitted"
                except DomainError as error:
                    outcome = error.code
                except redis.RedisError:
                    outcome = "redis down"
                with taking:
                    outcomes_after[outcome] += 1
                    if outcomes_after["admitted"] >= 20 and not killed.is_set():
                        killed.set()
                        redis_server.kill()  # mid-sale: the claims not yet consumed are gone with it
                        redis_server.start()  # empty: no persistence
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=8) as pool:
        for future in [pool.submit(hammer) for _ in range(8)]:
            future.result()
    assert killed.is_set()
    consume()
    assert outcomes_after["admitted"] >= 20
    assert outcomes_after["flash_sold_out"] > 0  # the wave sold the item out again after the rebuild

    # Nothing oversold, every paid order kept, and the books balance on the rebuilt gate.
    assert live_units(item) <= QUANTITY
    assert set(Order.objects.filter(paid_at__isnull=False).values_list("pk", flat=True)) == paid
    assert FlashClaim.objects.filter(order_id__in=paid, status=ClaimStatus.ORDERED).count() == 40
    truth = actions.reconcile(item)
    assert truth.ok, truth
    assert truth.at_gate + live_units(item) == QUANTITY
    sku.refresh_from_db()
    assert sku.stock >= 0
