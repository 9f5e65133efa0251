"""Races only a real engine shows (PostgreSQL pass).

- 500 members sign up within a few seconds for a stock of 300: exactly 300 units are sold, the
  other 200 are told it is full, nothing else goes wrong; the 300 then pay at once and get the
  sequence numbers 1..300, unique and gap-free.
- Sign-ups (each paid at once) racing the deadline close: each is either in before the close
  (confirmed, and counted by the close) or refused, never half: no order, unit or sequence
  number is left over.
"""

import contextlib
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from django.db import connections
from django.utils import timezone

from shequn.accounts.models import User
from shequn.communities.models import CommunityMembership
from shequn.core.errors import DomainError
from shequn.groupbuy import actions
from shequn.groupbuy.enums import CampaignStatus, SignUpStatus
from shequn.groupbuy.models import SignUp
from shequn.orders.actions import mark_paid
from shequn.orders.enums import OrderStatus
from shequn.orders.models import Order, RefundRequest

from .conftest import ItemInput

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 48  # concurrent connections, as a server's worker pool would hold


def make_neighbours(world, count: int, prefix: str) -> list[Any]:
    users = User.objects.bulk_create(
        [User(username=f"{prefix}{n}", nickname=f"{prefix}{n}", phone=None) for n in range(count)]
    )
    CommunityMembership.objects.bulk_create(
        [CommunityMembership(community=world.community, user=user, sub_group=world.east) for user in users]
    )
    return users


def run_pool(calls: list[Any]) -> list[Any]:
    """Run every call on a pool of WORKERS threads, released together; DomainError → its code."""
    start = threading.Barrier(min(WORKERS, len(calls)))
    failures: list[BaseException] = []

    def run(call: Any) -> Any:
        try:
            with contextlib.suppress(threading.BrokenBarrierError):
                start.wait(timeout=0.5)
            return call()
        except DomainError as error:
            return error.code
        except BaseException as error:
            failures.append(error)
            return "server_error"
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        outcomes = list(pool.map(run, calls))
    assert failures == []
    return outcomes


def test_500_members_for_a_stock_of_300(world):
    campaign = world.open_campaign(
        items=[ItemInput(sku_id=world.salmon.pk, price_fen=5900, stock_limit=300, per_person_cap=1)],
        min_total_units=300,
    )
    item = campaign.items.get()
    members = make_neighbours(world, 500, "邻居")

    def sign(user: Any) -> Any:
        return lambda: actions.sign_up(user, campaign.pk, {item.pk: 1}).pk

    started = time.monotonic()
    outcomes = run_pool([sign(user) for user in members])
    took = time.monotonic() - started
    ids = [o for o in outcomes if isinstance(o, int)]
    assert Counter(o for o in outcomes if not isinstance(o, int)) == {"campaign_sold_out": 200}
    assert len(ids) == 300
    assert took < 60
    item.refresh_from_db()
    assert item.sold == 300
    assert SignUp.objects.filter(campaign=campaign).count() == 300
    assert Order.objects.filter(sign_up__campaign=campaign).count() == 300

    orders = list(Order.objects.filter(sign_up__campaign=campaign))
    paid = run_pool([(lambda order=order: mark_paid(order)) for order in orders])
    assert paid == [True] * 300
    sequences = sorted(s or 0 for s in SignUp.objects.filter(campaign=campaign).values_list("sequence", flat=True))
    assert sequences == list(range(1, 301))
    campaign.refresh_from_db()
    item.refresh_from_db()
    assert (campaign.last_sequence, item.paid_units, item.sold) == (300, 300, 300)


def test_sign_ups_racing_the_close_are_either_in_or_refused(world):
    campaign = world.open_campaign(
        items=[ItemInput(sku_id=world.salmon.pk, price_fen=5900, stock_limit=1000, per_person_cap=3)],
        min_total_units=1,
    )
    item = campaign.items.get()
    members = make_neighbours(world, 120, "赶末班")
    closing_at = timezone.now() + timedelta(hours=3)  # the close runs as if the deadline had passed

    def sign_and_pay(user: Any) -> Any:
        def call() -> Any:
            entry = actions.sign_up(user, campaign.pk, {item.pk: 2})
            with contextlib.suppress(DomainError):  # the close cancelled the unpaid order first
                mark_paid(entry.order)
            return "in"

        return call

    def close() -> Any:
        # Close in the middle of the rush: once some sign-ups are on the list.
        waited = time.monotonic() + 20
        while time.monotonic() < waited and SignUp.objects.filter(status=SignUpStatus.CONFIRMED).count() < 15:
            time.sleep(0.01)
        return actions.close_campaign(campaign.pk, now=closing_at)

    outcomes = run_pool([close, *[sign_and_pay(user) for user in members]])
    counts = Counter(outcomes)
    assert counts[CampaignStatus.SUCCEEDED] == 1
    assert counts["in"] + counts["campaign_not_open"] == 120
    assert counts["in"] >= 15  # both sides of the race happened
    assert counts["campaign_not_open"] > 0
    campaign.refresh_from_db()
    item.refresh_from_db()
    sign_ups = SignUp.objects.filter(campaign=campaign)
    # Every sign-up that got in has its one order; every refused one left nothing behind.
    assert sign_ups.count() == counts["in"]
    assert Order.objects.filter(sign_up__campaign=campaign).count() == counts["in"]
    # Never half: nothing is left unpaid; each is on the list (paid before the close, counted),
    # refunded in full (paid after it) or cancelled unpaid by the close.
    by_status = Counter(sign_ups.values_list("status", flat=True))
    assert set(by_status) <= {SignUpStatus.CONFIRMED, SignUpStatus.REFUNDED, SignUpStatus.CANCELLED}
    assert not Order.objects.filter(sign_up__campaign=campaign, status=OrderStatus.PENDING_PAYMENT).exists()
    confirmed = sign_ups.filter(status=SignUpStatus.CONFIRMED)
    assert item.paid_units == item.sold == 2 * confirmed.count()
    assert sorted(s or 0 for s in confirmed.values_list("sequence", flat=True)) == list(range(1, confirmed.count() + 1))
    for entry in sign_ups.filter(status=SignUpStatus.REFUNDED):
        assert RefundRequest.objects.filter(order_id=entry.order_id).count() == 1
    assert not Order.objects.filter(sign_up__in=confirmed, refunded_fen__gt=0).exists()
    assert RefundRequest.objects.filter(order__sign_up__in=confirmed).count() == 0
