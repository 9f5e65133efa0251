"""Account deletion racing a new order, on PostgreSQL where row locks are real.

Both lock the account row first (privacy.actions.do_delete_account; orders.actions._lock_buyers),
so for each member exactly one wins: the order is placed and the deletion is refused because of
it, or the account is deleted and the order refused. Never an order kept for an anonymised buyer
with their name and address on it."""

import pytest
from django.db import connection

from shequn.accounts.models import User
from shequn.orders.actions import create_order
from shequn.orders.models import Order
from shequn.privacy.actions import do_delete_account, do_send_deletion_code
from shequn.privacy.enums import RequestKind
from shequn.privacy.models import DataRequest
from shequn.testing.factories import PickupPointFactory
from shequn.testing.orders import make_member, make_shop, make_sku
from shequn.testing.postgres import run_at_once

MEMBERS = 8


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_deletion_and_a_new_order_of_the_same_member_never_both_happen(sms_outbox):
    assert connection.vendor == "postgresql"
    sku = make_sku(make_shop(), price_fen=1200, stock=100)
    members = [make_member(phone=f"1391234{index:04d}") for index in range(MEMBERS)]
    codes = {}
    for member in members:
        do_send_deletion_code(member, ip=None)
        codes[member.pk] = sms_outbox.last_code(member.phone)
    # Half deliver to their address, which the deletion removes; half pick up at the shop.
    pickup_point = PickupPointFactory.create(shop=sku.shop)
    destinations = {
        member.pk: {"fulfilment": "delivery", "address_id": member.addresses.get().pk}
        if index % 2
        else {"fulfilment": "pickup", "pickup_point_id": pickup_point.pk}
        for index, member in enumerate(members)
    }

    def order(member):
        return lambda: (
            create_order(member, sku_id=sku.pk, quantity=1, payment_method="sandbox", **destinations[member.pk]).user_id
        )

    def delete(member):
        return lambda: do_delete_account(member, codes[member.pk], ip=None).kind

    calls = [call for member in members for call in (order(member), delete(member))]
    outcomes = run_at_once(calls)

    assert len(outcomes) == 2 * MEMBERS
    deleted = ordered = 0
    for member in members:
        account = User.objects.get(pk=member.pk)
        orders = list(Order.objects.filter(user=member))
        if account.is_active:
            # The order won: it exists with its recipient, and the deletion was refused because of it.
            assert len(orders) == 1
            assert account.phone == member.phone
            refusal = DataRequest.objects.get(user=member, kind=RequestKind.DELETION)
            assert (refusal.outcome, refusal.note) == ("refused", "unpaid_orders")
            ordered += 1
        else:
            # The deletion won: no order was placed for the deleted account.
            assert orders == []
            assert account.phone is None
            deleted += 1
    assert deleted + ordered == MEMBERS
    # Each pair: the winner's outcome and the loser's refusal. An order that lost finds the
    # account inactive, or its address already gone if the deletion came before its checkout.
    assert outcomes.count("deletion") == deleted
    assert outcomes.count("deletion_blocked") == ordered
    assert outcomes.count("account_inactive") + outcomes.count("address_required") == deleted
    assert sum(isinstance(outcome, int) for outcome in outcomes) == ordered
    sku.refresh_from_db()
    assert sku.stock == 100 - ordered


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_deletion_racing_the_consumer_of_a_queued_grab_never_leaves_money_on_an_anonymised_account(sms_outbox):
    """Each member's grab is queued at the gate; their account deletion and the red-packet consumers
    run at once. The consumer locks the members' rows, as the deletion locks its own first: a grab is
    either written and credited before the deletion (which then forfeits the balance to the shop) or
    refused after it. Never money on an anonymised account, and the shop's books sum to zero."""
    from datetime import timedelta

    from django.utils import timezone

    from shequn.gate.engine import use_gate
    from shequn.gate.local import LocalGate
    from shequn.redpackets import actions as redpacket_actions
    from shequn.redpackets.actions import PacketInput
    from shequn.redpackets.models import RedPacket, RedPacketGrab
    from shequn.testing.factories import CommunityFactory, MembershipFactory, StaffFactory
    from shequn.wallets.enums import AccountKind
    from shequn.wallets.models import Account, LedgerTransaction

    previous = use_gate(LocalGate())
    try:
        shop = make_shop()
        community = CommunityFactory.create(shop=shop)
        members = [make_member(phone=f"1391235{index:04d}") for index in range(MEMBERS)]
        for member in members:
            MembershipFactory.create(community=community, user=member)
        now = timezone.now()
        packet = redpacket_actions.fund_packet(
            shop,
            StaffFactory.create(shop=shop, role="owner").user,
            PacketInput(
                title="周末红包", total_fen=100 * MEMBERS, count=MEMBERS, split="equal", audience="community",
                community_id=community.pk, starts_at=now - timedelta(seconds=1), expires_at=now + timedelta(days=1),
            ),
        )  # fmt: skip
        codes = {}
        for member in members:
            do_send_deletion_code(member, ip=None)
            codes[member.pk] = sms_outbox.last_code(member.phone)
            assert redpacket_actions.grab(member, packet.pk).admitted

        def delete(member):
            return lambda: do_delete_account(member, codes[member.pk], ip=None).kind

        def consume(index):
            return lambda: redpacket_actions.materialise_grabs(consumer=f"consumer-{index}", count=1, idle_ms=0)

        outcomes = run_at_once([delete(member) for member in members] + [consume(index) for index in range(4)])
    finally:
        use_gate(previous)

    assert outcomes.count("deletion") == MEMBERS
    assert not User.objects.filter(pk__in=[m.pk for m in members], is_active=True).exists()
    written = set(RedPacketGrab.objects.filter(packet=packet).values_list("member_id", flat=True))
    # Every grab written was credited before its member's deletion, and that balance was forfeited.
    forfeits = LedgerTransaction.objects.filter(reference__startswith="wallet:forfeit:").count()
    assert forfeits == len(written)
    assert not Account.objects.filter(holder_id__in=[m.pk for m in members]).exclude(balance_fen=0).exists()
    assert sum(Account.objects.filter(shop=shop).values_list("balance_fen", flat=True)) == 0
    packet = RedPacket.objects.get(pk=packet.pk)
    assert (packet.grabbed_count, packet.grabbed_fen) == (len(written), 100 * len(written))
    assert Account.objects.get(shop=shop, holder=None, kind=AccountKind.RED_PACKET_HOLDING).balance_fen == (
        100 * (MEMBERS - len(written))
    )
