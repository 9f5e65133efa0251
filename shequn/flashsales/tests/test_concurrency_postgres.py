"""Races only a real engine shows (PostgreSQL pass), with the in-process gate shared by threads.

- 200 members attempt at once for 50 units: exactly 50 are admitted; four consumers racing over
  the same claims (each also taking over the others' deliveries at once) write exactly 50 orders,
  one per claim.
- Every unpaid order closed by two closers at once gives its unit back to the gate exactly once.

Outcomes only: no wall-time bound, and no claim about which side of a race won.
"""

import contextlib
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import connections

from shequn.accounts.models import User
from shequn.core.errors import DomainError
from shequn.flashsales import actions
from shequn.flashsales.enums import ClaimStatus
from shequn.flashsales.models import FlashClaim, pool_key
from shequn.orders.actions import close_unpaid_order
from shequn.orders.models import Order
from shequn.testing.factories import PickupPointFactory

from .conftest import item_of, make_running

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 32


def run_pool(calls: list[Any]) -> list[Any]:
    start = threading.Barrier(min(WORKERS, len(calls)))

    def run(call: Any) -> Any:
        try:
            with contextlib.suppress(threading.BrokenBarrierError):
                start.wait(timeout=0.5)
            return call()
        except DomainError as error:
            return error.code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(run, calls))


def test_attempts_and_consumers_race_to_exactly_the_quantity(shop, operator, sku, gate, commit, sandbox):
    PickupPointFactory.create(shop=shop)
    sale = make_running(shop, operator, sku, commit, quantity=50)
    item = item_of(sale)
    members = User.objects.bulk_create([User(username=f"m{n}", nickname=f"m{n}", phone=None) for n in range(200)])
    outcomes = run_pool([lambda m=m: actions.attempt(m, item.pk).claim_id for m in members])
    refusals = Counter(o for o in outcomes if o.startswith("flash_"))
    assert refusals == {"flash_sold_out": 150}
    consumers = [lambda n=n: actions.materialise_claims(consumer=f"c{n}", count=7, idle_ms=0).ordered for n in range(4)]
    assert sum(run_pool(consumers)) == 50
    assert Order.objects.count() == 50
    assert FlashClaim.objects.filter(status=ClaimStatus.ORDERED).count() == 50
    assert actions.reconcile(item).ok

    deadline = Order.objects.values_list("expires_at", flat=True).order_by("-expires_at").first()
    assert deadline is not None
    expired = deadline + timedelta(seconds=1)
    ids = list(Order.objects.values_list("pk", flat=True))
    with time_machine.travel(expired):
        closed = run_pool([lambda pk=pk: close_unpaid_order(pk) for pk in ids + ids])
    assert closed.count(True) == 50
    assert gate.state(pool_key(item.pk)).units_left == 50
    assert FlashClaim.objects.filter(status=ClaimStatus.RELEASED).count() == 50
    assert actions.reconcile(item).ok
