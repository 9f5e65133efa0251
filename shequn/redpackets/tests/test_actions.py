"""Funding, grabbing through the gate, crediting, returning at expiry, and the books (SQLite,
in-process gate)."""

from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Sum
from django.utils import timezone

from shequn.core.errors import DomainError
from shequn.core.models import AuditLog
from shequn.gate.base import Refusal
from shequn.redpackets import actions, selectors
from shequn.redpackets.enums import PacketStatus
from shequn.redpackets.models import RedPacketGrab, pool_key
from shequn.testing.factories import UserFactory
from shequn.wallets import ledger
from shequn.wallets.enums import AccountKind
from shequn.wallets.models import Account, Entry

from .conftest import fund, make_event, member_of, packet_input, register

pytestmark = pytest.mark.django_db


def ledger_sums_to_zero() -> None:
    assert (Entry.objects.aggregate(total=Sum("amount_fen"))["total"] or 0) == 0
    for account in Account.objects.all():
        assert account.balance_fen == ledger.entries_total(account.pk)


def grab(user: Any, packet: Any) -> int:
    """A member's grab, written by the consumer; returns the amount they got."""
    actions.grab(user, packet.pk)
    actions.materialise_grabs()
    return RedPacketGrab.objects.get(packet=packet, member=user).amount_fen


def test_funding_moves_the_total_from_the_shop_to_the_holding_account(shop, owner, community, commit, gate):
    packet = fund(shop, owner, commit, community, total_fen=1000, count=3)

    assert sum(packet.parts_fen) == 1000
    assert len(packet.parts_fen) == 3
    assert ledger.balance(shop, AccountKind.PROMOTION_EXPENSE) == -1000
    assert ledger.balance(shop, AccountKind.RED_PACKET_HOLDING) == 1000
    assert gate.state(pool_key(packet.pk)).units_left == 3
    assert AuditLog.objects.filter(shop=shop, action="redpacket.fund", object_id=str(packet.pk)).exists()
    ledger_sums_to_zero()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"total_fen": 99, "count": 100}, "total"),
        ({"count": 0}, "count"),
        ({"title": " "}, "title"),
        ({"split": "lucky"}, "split"),
        ({"expires_at": timezone.now() - timedelta(minutes=1)}, "expires_at"),
        ({"expires_at": timezone.now() + timedelta(days=31)}, "expires_at"),
    ],
)
def test_a_pool_that_breaks_a_rule_is_refused_and_nothing_moves(shop, owner, community, fields, field):
    with pytest.raises(DomainError) as refused:
        actions.fund_packet(shop, owner, packet_input(community, **fields))
    assert refused.value.code == "red_packet_invalid"
    assert field in refused.value.details["fields"]
    assert not Entry.objects.exists()


def test_the_audience_is_membership_or_attendance_never_sharing(shop, owner, community):
    from dataclasses import replace

    with pytest.raises(DomainError) as refused:
        actions.fund_packet(shop, owner, replace(packet_input(community), audience="shared_to_moments"))
    assert refused.value.code == "red_packet_invalid"
    assert "分享" in refused.value.message or "邀请" in refused.value.message


def test_another_shops_community_is_not_found(shop, other_shop, owner):
    from shequn.testing.factories import CommunityFactory

    foreign = CommunityFactory.create(shop=other_shop)
    with pytest.raises(DomainError) as refused:
        actions.fund_packet(shop, owner, packet_input(foreign))
    assert refused.value.status == 404


def test_two_members_grab_and_are_credited_to_a_balance_they_cannot_withdraw(shop, owner, community, commit):
    packet = fund(shop, owner, commit, community, total_fen=1000, count=3)
    wang, li = member_of(community, "王小明"), member_of(community, "李雷")

    first, second = grab(wang, packet), grab(li, packet)

    assert [first, second] == packet.parts_fen[:2]
    assert ledger.balance(shop, AccountKind.SPENDABLE, wang) == first
    assert ledger.balance(shop, AccountKind.SPENDABLE, li) == second
    assert ledger.balance(shop, AccountKind.AVAILABLE, wang) == 0
    assert ledger.balance(shop, AccountKind.RED_PACKET_HOLDING) == 1000 - first - second
    packet.refresh_from_db()
    assert (packet.grabbed_count, packet.grabbed_fen) == (2, first + second)
    assert AuditLog.objects.filter(action="redpacket.grab", object_id=str(packet.pk)).count() == 2
    ledger_sums_to_zero()


def test_the_shop_setting_makes_grabs_withdrawable_for_packets_funded_after_it(shop, owner, community, commit):
    before = fund(shop, owner, commit, community, count=2)
    actions.update_settings(shop, owner, withdrawable=True)
    after = fund(shop, owner, commit, community, count=2)
    wang = member_of(community, "王小明")

    kept, withdrawable = grab(wang, before), grab(wang, after)

    assert ledger.balance(shop, AccountKind.SPENDABLE, wang) == kept
    assert ledger.balance(shop, AccountKind.AVAILABLE, wang) == withdrawable
    assert AuditLog.objects.filter(action="redpacket.settings", shop=shop).exists()


def test_one_grab_per_member(shop, owner, community, commit):
    packet = fund(shop, owner, commit, community, count=3)
    wang = member_of(community, "王小明")
    grab(wang, packet)

    with pytest.raises(DomainError) as refused:
        actions.grab(wang, packet.pk)
    assert refused.value.code == "red_packet_already_grabbed"
    assert RedPacketGrab.objects.filter(member=wang).count() == 1


def test_outsiders_cannot_grab(shop, owner, community, commit):
    packet = fund(shop, owner, commit, community)
    with pytest.raises(DomainError) as refused:
        actions.grab(UserFactory.create(), packet.pk)
    assert refused.value.code == "red_packet_audience_only"


def test_an_event_packet_is_for_confirmed_attendees_only(shop, owner, community, commit):
    event = make_event(shop, community)
    with commit():
        packet = actions.fund_packet(shop, owner, packet_input(event=event))
    confirmed, waiting = member_of(community, "王小明"), member_of(community, "李雷")
    register(event, confirmed)
    register(event, waiting, status="waitlisted")

    assert grab(confirmed, packet) == packet.parts_fen[0]
    with pytest.raises(DomainError) as refused:
        actions.grab(waiting, packet.pk)
    assert refused.value.code == "red_packet_audience_only"


def test_when_every_part_is_grabbed_the_best_luck_is_shown_and_latecomers_are_refused(shop, owner, community, commit):
    packet = fund(shop, owner, commit, community, total_fen=500, count=2)
    wang, li, late = (member_of(community, name) for name in ("王小明", "李雷", "韩梅梅"))
    grab(wang, packet)
    grab(li, packet)

    with pytest.raises(DomainError) as refused:
        actions.grab(late, packet.pk)
    assert refused.value.code == "red_packet_all_grabbed"
    packet.refresh_from_db()
    view = selectors.packet_view(packet, wang)
    assert view.phase == "all_grabbed"
    largest = max(packet.parts_fen)
    assert view.best is not None
    assert view.best.amount_fen == largest
    assert [line.name for line in view.grabs] == ["王**", "李*"]
    assert view.mine is not None
    assert view.mine.member_id == wang.pk


def test_the_best_luck_is_not_shown_while_parts_are_left(shop, owner, community, commit):
    packet = fund(shop, owner, commit, community, count=3)
    wang = member_of(community, "王小明")
    grab(wang, packet)
    packet.refresh_from_db()
    assert selectors.packet_view(packet, wang).best is None


def test_at_expiry_the_remainder_returns_to_the_shop_exactly_once(shop, owner, community, commit, gate):
    packet = fund(shop, owner, commit, community, total_fen=1000, count=3)
    got = grab(member_of(community, "王小明"), packet)
    later = timezone.now() + timedelta(days=2)

    with commit():
        assert actions.return_expired(now=later) == 1
    assert actions.return_expired(now=later) == 0  # safe to run twice

    packet.refresh_from_db()
    assert packet.status == PacketStatus.RETURNED
    assert packet.returned_fen == 1000 - got
    assert ledger.balance(shop, AccountKind.RED_PACKET_HOLDING) == 0
    assert ledger.balance(shop, AccountKind.PROMOTION_EXPENSE) == -got
    assert AuditLog.objects.filter(action="redpacket.return", object_id=str(packet.pk)).count() == 1
    assert gate.attempt(pool_key(packet.pk), 999, now=timezone.now()).refusal == Refusal.CLOSED
    books = selectors.books(packet)
    assert books.grabbed_fen == books.credited_fen == books.grab_rows_fen == got
    assert books.holding_fen == 0
    ledger_sums_to_zero()


def test_a_claim_admitted_before_expiry_is_written_before_the_return(shop, owner, community, commit):
    packet = fund(shop, owner, commit, community, total_fen=1000, count=3)
    actions.grab(member_of(community, "王小明"), packet.pk)  # admitted, not yet written

    with commit():
        actions.return_expired(now=timezone.now() + timedelta(days=2))

    packet.refresh_from_db()
    assert packet.grabbed_count == 1
    assert packet.grabbed_fen + packet.returned_fen == 1000
    ledger_sums_to_zero()


def test_a_lost_pool_is_rebuilt_from_the_database_and_nobody_grabs_twice(shop, owner, community, commit, gate):
    packet = fund(shop, owner, commit, community, count=3)
    wang, li = member_of(community, "王小明"), member_of(community, "李雷")
    grab(wang, packet)
    gate.forget(pool_key(packet.pk))  # Redis restarted empty

    with pytest.raises(DomainError) as refused:
        actions.grab(wang, packet.pk)
    assert refused.value.code == "red_packet_already_grabbed"
    grab(li, packet)
    assert gate.state(pool_key(packet.pk)).units_left == 1


def test_a_claim_delivered_twice_is_written_and_credited_once(shop, owner, community, commit, gate):
    packet = fund(shop, owner, commit, community, count=3)
    actions.grab(member_of(community, "王小明"), packet.pk)
    claims = gate.read_claims("redpacket", "crashed")  # read by a consumer that died before acking

    assert actions._write_grabs(packet.pk, claims) == 1
    assert actions.materialise_grabs(idle_ms=0) == 0  # redelivered: nothing written twice

    assert RedPacketGrab.objects.count() == 1
    assert Entry.objects.filter(transaction__reference__startswith="redpacket:grab:").count() == 2
    ledger_sums_to_zero()


def test_a_batch_of_grabs_is_written_in_the_same_statements_however_many_claims(shop, owner, community, commit, gate):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    packet = fund(shop, owner, commit, community, total_fen=10_000, count=60)
    counts = []
    for size in (1, 50):
        members = [member_of(community, f"会员{size}-{n}") for n in range(size)]
        for member in members:
            actions.admit(member.pk, packet.pk)
        claims = gate.read_claims("redpacket", "pinned", count=100)
        actions._parts.cache_clear()  # each batch as the first one a process writes
        with CaptureQueriesContext(connection) as statements:
            assert actions._write_grabs(packet.pk, claims) == size
        counts.append(len(statements))
    assert counts[0] == counts[1]
    ledger_sums_to_zero()


def test_a_member_hammering_the_grab_is_rate_limited(shop, owner, community, commit):
    from shequn.gate.base import RateLimits
    from shequn.gate.engine import use_gate
    from shequn.gate.local import LocalGate

    previous = use_gate(LocalGate(limits=RateLimits(per_member=2, per_ip=1_000, window_ms=60_000)))
    try:
        packet = fund(shop, owner, commit, community, count=3)
        wang = member_of(community, "王小明")
        codes = []
        for _ in range(3):
            try:
                actions.grab(wang, packet.pk)
                codes.append("admitted")
            except DomainError as error:
                codes.append(f"{error.status} {error.code}")
    finally:
        use_gate(previous)
    assert codes == ["admitted", "409 red_packet_already_grabbed", "429 red_packet_rate_limited"]
