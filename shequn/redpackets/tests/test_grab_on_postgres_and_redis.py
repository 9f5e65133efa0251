"""A crowd grabs a red packet on the scale-out stack (PostgreSQL pass, redis-server started by the
test): 2,000 members at once for 100 parts, 50 more taps by one member racing with themself.
Exactly 100 grabs, their amounts sum to the pool, nobody twice; consumers racing over the claims
(one "crashed" after writing five grabs without acknowledging them) write and credit each grab once;
the ledger sums to zero and the packet's books agree with it. Outcomes only, no timings."""

import random
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Sum
from django.utils import timezone

from shequn.accounts.models import User
from shequn.communities.models import CommunityMembership
from shequn.gate.engine import use_gate
from shequn.gate.redis import RedisGate
from shequn.redpackets import actions, selectors
from shequn.redpackets.models import RedPacketGrab, pool_key
from shequn.testing.postgres import in_pool
from shequn.wallets import ledger
from shequn.wallets.enums import AccountKind
from shequn.wallets.models import Account, Entry

from .conftest import fund

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CROWD = 2_000
PARTS = 100
POOL_FEN = 88_888


@pytest.fixture
def gate(redis_server):
    """Overrides the in-process gate of conftest: the gate is a real Redis."""
    engine = RedisGate(redis_server.url)
    previous = use_gate(engine)
    yield engine
    use_gate(previous)
    engine.close_connections()


def members_of(community: Any, count: int) -> list[User]:
    users = User.objects.bulk_create([User(username=f"crowd{n}", nickname=f"群友{n}") for n in range(count)])
    CommunityMembership.objects.bulk_create([CommunityMembership(community=community, user=user) for user in users])
    return users


def consume(workers: int = 4) -> int:
    """Consumers racing over the same claims, each taking over the others' deliveries at once."""

    def consumer(n: int) -> Callable[[], int]:
        return lambda: actions.materialise_grabs(consumer=f"c{n}", count=7, idle_ms=0)

    return sum(in_pool([consumer(n) for n in range(workers)]))


def test_two_thousand_members_grab_a_hundred_part_packet_at_once(shop, owner, community, commit, gate):
    packet = fund(shop, owner, commit, community, total_fen=POOL_FEN, count=PARTS)
    crowd = members_of(community, CROWD)
    racer = crowd[0]

    def grab(member: User) -> Callable[[], Any]:
        return lambda: actions.grab(member, packet.pk).claim_id

    calls = [grab(member) for member in crowd] + [grab(racer)] * 50
    random.Random(16).shuffle(calls)
    outcomes = in_pool(calls)

    admitted = [outcome for outcome in outcomes if not outcome.startswith("red_packet_")]
    assert len(admitted) == PARTS
    assert len(set(admitted)) == PARTS
    refusals = Counter(outcome for outcome in outcomes if outcome.startswith("red_packet_"))
    assert set(refusals) <= {"red_packet_all_grabbed", "red_packet_already_grabbed"}
    assert gate.state(pool_key(packet.pk)).units_left == 0

    crashed = gate.read_claims("redpacket", "crashed", count=5)  # written, then the consumer died before its ack
    assert actions._write_grabs(packet.pk, crashed) == 5
    assert consume() == PARTS - 5  # the five were taken over and found written

    grabs = RedPacketGrab.objects.filter(packet=packet)
    assert grabs.count() == PARTS
    assert grabs.aggregate(total=Sum("amount_fen"))["total"] == POOL_FEN
    assert grabs.values("member").distinct().count() == PARTS
    assert sorted(grabs.values_list("position", flat=True)) == list(range(1, PARTS + 1))
    assert grabs.filter(member=racer).count() <= 1
    packet.refresh_from_db()
    assert (packet.grabbed_count, packet.grabbed_fen) == (PARTS, POOL_FEN)

    # Every grab credited once, to its member; the holding account is empty; nothing to return.
    for member_id, amount in grabs.values_list("member_id", "amount_fen"):
        assert ledger.balance(shop, AccountKind.SPENDABLE, member_id) == amount
    assert ledger.balance(shop, AccountKind.RED_PACKET_HOLDING) == 0
    with commit():
        assert actions.return_expired(now=timezone.now() + timedelta(days=2)) == 1
    packet.refresh_from_db()
    assert packet.returned_fen == 0
    books = selectors.books(packet)
    assert books.credited_fen == books.grab_rows_fen == POOL_FEN
    assert books.holding_fen == 0
    assert (Entry.objects.aggregate(total=Sum("amount_fen"))["total"] or 0) == 0
    for account in Account.objects.all():
        assert account.balance_fen == ledger.entries_total(account.pk)


def test_a_crowd_grabs_a_pool_paid_as_coupons_and_gets_exactly_its_parts_as_coupons(
    shop, owner, community, commit, gate
):
    from shequn.coupons.models import MemberCoupon

    parts, crowd_size = 40, 300
    packet = fund(shop, owner, commit, community, total_fen=5_000, count=parts, as_coupons=True)
    crowd = members_of(community, crowd_size)

    def grab(member: User) -> Callable[[], Any]:
        return lambda: actions.grab(member, packet.pk).claim_id

    outcomes = in_pool([grab(member) for member in crowd])
    assert len([outcome for outcome in outcomes if not outcome.startswith("red_packet_")]) == parts
    assert consume() == parts

    coupons = MemberCoupon.objects.filter(template_id=packet.coupon_template_id)
    assert coupons.count() == parts
    assert coupons.aggregate(total=Sum("amount_fen"))["total"] == 5_000
    assert sorted(coupons.values_list("user_id", "amount_fen")) == sorted(
        RedPacketGrab.objects.filter(packet=packet).values_list("member_id", "amount_fen")
    )
    assert not Entry.objects.exists()  # no money moved for this pool
    books = selectors.books(packet)
    assert (books.coupons_fen, books.credited_fen, books.holding_fen) == (5_000, 0, 0)
