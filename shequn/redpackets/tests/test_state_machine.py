"""Random sequences of fund / grab / consume (with a consumer that died holding claims) / lose the
gate's pool / expire keep the books true:

- the ledger sums to zero and each account's balance is the sum of its entries;
- for every packet, the grab rows, the grab credits and the packet's figures agree, never beyond
  the pool or its count, and the holding account holds exactly what is neither grabbed nor returned;
- a returned packet returned exactly its remainder, and a grab admitted after it is never paid.
"""

from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from shequn.core.errors import DomainError
from shequn.gate.engine import use_gate
from shequn.gate.local import LocalGate
from shequn.redpackets import actions, selectors
from shequn.redpackets.enums import PacketStatus
from shequn.redpackets.models import RedPacket, RedPacketGrab, pool_key
from shequn.testing.factories import CommunityFactory, MembershipFactory, ShopFactory, StaffFactory, UserFactory
from shequn.wallets import ledger
from shequn.wallets.enums import AccountKind
from shequn.wallets.models import Account, Entry

from .conftest import packet_input

pytestmark = pytest.mark.django_db


class RedPackets(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.gate = LocalGate()
        self.previous = use_gate(self.gate)
        self.shop = ShopFactory.create()
        self.owner = StaffFactory.create(shop=self.shop, role="owner").user
        self.community = CommunityFactory.create(shop=self.shop)
        self.members = [UserFactory.create() for _ in range(4)]
        for member in self.members:
            MembershipFactory.create(community=self.community, user=member)
        self.packets: list[int] = []

    def teardown(self) -> None:
        use_gate(self.previous)

    @rule(count=st.integers(1, 5), extra=st.integers(0, 2_000), split=st.sampled_from(["random", "equal"]))
    def fund(self, count, extra, split):
        data = packet_input(self.community, total_fen=count + extra, count=count, split=split)
        self.packets.append(actions.fund_packet(self.shop, self.owner, data).pk)

    @precondition(lambda self: self.packets)
    @rule(data=st.data())
    def grab(self, data):
        member = data.draw(st.sampled_from(self.members))
        packet_id = data.draw(st.sampled_from(self.packets))
        outcome = "admitted"
        try:
            actions.grab(member, packet_id)
        except DomainError as error:
            outcome = error.code
        assert outcome in {
            "admitted",
            "red_packet_already_grabbed",
            "red_packet_all_grabbed",
            "red_packet_closed",
            "red_packet_rate_limited",
        }

    @rule()
    def consume(self):
        actions.materialise_grabs(idle_ms=0)  # takes over what a dead consumer held

    @rule()
    def a_consumer_dies_holding_claims(self):
        self.gate.read_claims("redpacket", "crashed", count=2)

    @precondition(lambda self: self.packets)
    @rule(data=st.data())
    def lose_the_pool(self, data):
        self.gate.forget(pool_key(data.draw(st.sampled_from(self.packets))))

    @precondition(lambda self: self.packets)
    @rule(data=st.data())
    def expire(self, data):
        packet_id = data.draw(st.sampled_from(self.packets))
        actions.materialise_grabs(idle_ms=0)
        actions.return_packet(packet_id, now=timezone.now() + timedelta(days=2))

    @invariant()
    def the_ledger_sums_to_zero(self):
        assert (Entry.objects.aggregate(total=Sum("amount_fen"))["total"] or 0) == 0
        for account in Account.objects.filter(shop=self.shop):
            assert account.balance_fen == ledger.entries_total(account.pk)

    @invariant()
    def every_packet_agrees_with_the_ledger(self):
        held = 0
        for packet in RedPacket.objects.filter(pk__in=self.packets):
            books = selectors.books(packet)
            assert books.credited_fen == books.grab_rows_fen == packet.grabbed_fen
            assert packet.grabbed_count == RedPacketGrab.objects.filter(packet=packet).count() <= packet.count
            assert books.holding_fen == packet.held_fen >= 0
            if packet.status == PacketStatus.RETURNED:
                assert packet.returned_fen == packet.total_fen - packet.grabbed_fen
                assert packet.held_fen == 0
            held += packet.held_fen
        assert ledger.balance(self.shop, AccountKind.RED_PACKET_HOLDING) == held


def test_the_books_stay_true_under_any_sequence():
    run_state_machine_as_test(
        RedPackets,
        settings=settings(
            max_examples=25,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
