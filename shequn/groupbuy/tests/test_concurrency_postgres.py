"""Races only a real engine shows (PostgreSQL pass).

- 500 members sign up within a few seconds for a stock of 300: the gate admits exactly 300, the
  other 200 are told it is full, four consumers write exactly 300 sign-ups; the 300 then pay at once and get the
  sequence numbers 1..300, unique and gap-free.
- 220 attempts (200 members, 20 of them twice) through the gate for 60 units, on the in-process
  engine and on Redis: exactly 60 admitted, four racing consumers write exactly 60 sign-ups, all
  pay at once (1..60), ten cancel at once (twice each): the live list shows 1..50 and ten units are back
  at the gate, once.
- Sign-ups (each paid at once) racing the deadline close: each is either in before the close
  (confirmed, and counted by the close) or refused, never half: no order, unit or sequence
  number is left over, and nothing is recorded after the close.

Both assert outcomes only: no wall-time bound, and no claim about which side of a race won.
"""

import contextlib
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
import redis
from django.db import connections
from django.utils import timezone

from shequn.accounts.models import User
from shequn.communities.models import CommunityMembership
from shequn.core.errors import DomainError
from shequn.gate.engine import use_gate
from shequn.gate.local import LocalGate
from shequn.gate.redis import RedisGate
from shequn.groupbuy import actions, selectors
from shequn.groupbuy.enums import CampaignStatus, SignUpStatus
from shequn.groupbuy.models import SignUp, pool_key
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
        return lambda: actions.join_queue(user, campaign.pk, {item.pk: 1}).ticket

    outcomes = run_pool([sign(user) for user in members])
    tickets = [o for o in outcomes if o != "campaign_sold_out"]
    assert outcomes.count("campaign_sold_out") == 200
    assert len(tickets) == len(set(tickets)) == 300
    consumers = [lambda n=n: actions.materialise_claims(consumer=f"c{n}", count=25).signed_up for n in range(4)]
    # Some may already be written: a sold-out answer compares the gate with the tables, writing the
    # queue first (actions.resync_undersold_pool). Either way each claim is written once.
    assert sum(run_pool(consumers)) <= 300
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
    # No minimum: the close succeeds wherever it lands in the rush, so the outcome to check is
    # only what happened to each sign-up, not which side of the race was luckier.
    campaign = world.open_campaign(
        items=[ItemInput(sku_id=world.salmon.pk, price_fen=5900, stock_limit=1000, per_person_cap=3)],
        min_total_units=0,
    )
    item = campaign.items.get()
    members = make_neighbours(world, 120, "赶末班")
    closing_at = timezone.now() + timedelta(hours=3)  # the close runs as if the deadline had passed
    began: dict[int, Any] = {}  # user id → when their attempt started
    closed: dict[str, Any] = {}

    def sign_and_pay(user: Any) -> Any:
        def call() -> Any:
            began[user.pk] = timezone.now()
            entry = actions.sign_up(user, campaign.pk, {item.pk: 2})
            with contextlib.suppress(DomainError):  # the close cancelled the unpaid order first
                mark_paid(entry.order)
            return "in"

        return call

    def close() -> Any:
        # Aim for the middle of the rush (a bounded wait for some confirmed sign-ups); the
        # assertions below hold wherever the close actually lands.
        waited = time.monotonic() + 20
        while time.monotonic() < waited and SignUp.objects.filter(status=SignUpStatus.CONFIRMED).count() < 15:
            time.sleep(0.01)
        status = actions.close_campaign(campaign.pk, now=closing_at)
        closed["returned_at"] = timezone.now()
        return status

    outcomes = run_pool([close, *[sign_and_pay(user) for user in members]])
    counts = Counter(outcomes)
    # The close ran exactly once; every attempt either got in or was refused because it had closed.
    assert counts[CampaignStatus.SUCCEEDED] == 1
    assert counts["in"] + counts["campaign_not_open"] == 120
    campaign.refresh_from_db()
    item.refresh_from_db()
    assert campaign.status == CampaignStatus.SUCCEEDED
    sign_ups = SignUp.objects.filter(campaign=campaign)
    # Every sign-up that got in has its one order; every refused one left nothing behind.
    assert sign_ups.count() == counts["in"]
    assert Order.objects.filter(sign_up__campaign=campaign).count() == counts["in"]
    # Nothing is recorded after the close: no sign-up is newer than the close's return, and
    # every attempt that began after it was refused.
    assert not sign_ups.filter(created_at__gt=closed["returned_at"]).exists()
    late = {user_id for user_id, at in began.items() if at > closed["returned_at"]}
    assert not sign_ups.filter(user_id__in=late).exists()
    # Never half: nothing is left unpaid; each is on the list (paid before the close, counted),
    # refunded in full (paid after it) or cancelled unpaid by the close.
    by_status = Counter(sign_ups.values_list("status", flat=True))
    assert set(by_status) <= {SignUpStatus.CONFIRMED, SignUpStatus.REFUNDED, SignUpStatus.CANCELLED}
    assert sum(by_status.values()) == counts["in"]
    assert not Order.objects.filter(sign_up__campaign=campaign, status=OrderStatus.PENDING_PAYMENT).exists()
    confirmed = sign_ups.filter(status=SignUpStatus.CONFIRMED)
    # Exact totals: the campaign counts two units for each sign-up on the list and no others.
    assert item.paid_units == item.sold == 2 * confirmed.count()
    assert campaign.last_sequence == confirmed.count()
    assert sorted(s or 0 for s in confirmed.values_list("sequence", flat=True)) == list(range(1, confirmed.count() + 1))
    for entry in sign_ups.filter(status=SignUpStatus.REFUNDED):
        refunds = RefundRequest.objects.filter(order_id=entry.order_id)
        assert [r.amount_fen for r in refunds] == [2 * 5900]
    for entry in sign_ups.filter(status=SignUpStatus.CANCELLED):
        assert Order.objects.get(pk=entry.order_id).status == OrderStatus.CANCELLED
    assert not Order.objects.filter(sign_up__in=confirmed, refunded_fen__gt=0).exists()
    assert RefundRequest.objects.filter(order__sign_up__in=confirmed).count() == 0
    assert set(Order.objects.filter(sign_up__in=confirmed).values_list("hold_reason", flat=True)) <= {""}


@pytest.fixture(params=["local", "redis"])
def engine(request: pytest.FixtureRequest) -> Any:
    """The gate the web processes share: in-process, or Redis (started for the tests)."""
    if request.param == "local":
        yield LocalGate()
        return
    url = request.getfixturevalue("redis_url")
    with redis.Redis.from_url(url) as client:
        client.flushdb()
    gate = RedisGate(url)
    yield gate
    gate.close_connections()


def test_a_burst_through_the_gate_numbers_the_list_one_to_n(world, engine):
    previous = use_gate(engine)
    try:
        campaign = world.open_campaign(
            items=[ItemInput(sku_id=world.salmon.pk, price_fen=5900, stock_limit=60, per_person_cap=1)],
            min_total_units=0,
        )
        item = campaign.items.get()
        assert engine.state(pool_key(item.pk)).ready  # configured when the publish committed
        members = make_neighbours(world, 200, "抢接龙")
        outcomes = run_pool(
            [lambda m=m: actions.join_queue(m, campaign.pk, {item.pk: 1}).ticket for m in members]
            + [lambda m=m: actions.join_queue(m, campaign.pk, {item.pk: 1}).ticket for m in members[:20]]
        )
        tickets = [o for o in outcomes if o not in ("campaign_sold_out", "campaign_cap_exceeded")]
        # Exactly the stock is admitted, each member at most once (the cap), whatever the order.
        assert len(tickets) == len(set(tickets)) == 60
        assert len(outcomes) - len(tickets) == 160
        assert outcomes.count("campaign_cap_exceeded") <= 20
        # Four consumers race over the same claims, each taking over the others' at once.
        consumers = [
            lambda n=n: actions.materialise_claims(consumer=f"c{n}", count=7, idle_ms=0).signed_up for n in range(4)
        ]
        assert sum(run_pool(consumers)) <= 60  # the rest written by a sold-out answer's table check
        assert SignUp.objects.filter(campaign=campaign).count() == 60
        assert Order.objects.filter(sign_up__campaign=campaign).count() == 60
        assert len(set(SignUp.objects.filter(campaign=campaign).values_list("user_id", flat=True))) == 60
        assert selectors.reconcile(item).ok

        # Everyone pays at once: numbers 1..60; then ten cancel at once: 1..50, units back once.
        orders = list(Order.objects.filter(sign_up__campaign=campaign))
        assert run_pool([(lambda order=order: mark_paid(order)) for order in orders]) == [True] * 60
        entries = list(SignUp.objects.filter(campaign=campaign).select_related("user")[:10])
        cancelled = run_pool([(lambda e=e: actions.cancel_sign_up(e.user, e.pk).status) for e in entries + entries])
        assert Counter(cancelled) == {SignUpStatus.REFUNDED: 10, "sign_up_not_changeable": 10}
        confirmed = SignUp.objects.filter(campaign=campaign, status=SignUpStatus.CONFIRMED)
        assert confirmed.count() == 50
        assert [e.sequence for e in selectors.live_list(campaign)] == list(range(1, 51))
        assert sorted(e.position for e in selectors.with_position(confirmed)) == list(range(1, 51))  # type: ignore[attr-defined]
        campaign.refresh_from_db()
        assert campaign.last_sequence == 60  # numbers given at payment are never given again
        books = selectors.reconcile(item)
        assert (books.at_gate, books.sold, books.paid, books.ok) == (10, 50, 50, True)
    finally:
        use_gate(previous)
