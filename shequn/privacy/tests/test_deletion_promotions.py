"""A member deletes their account while a red-packet grab of theirs is still queued at the gate, or
after winning a lottery: nothing reaches the anonymised account, and the shop's books stay exact."""

from datetime import timedelta

import pytest
from django.utils import timezone

from shequn.accounts.models import User
from shequn.core.errors import DomainError
from shequn.gate.engine import use_gate
from shequn.gate.local import LocalGate
from shequn.lotteries import actions as lottery_actions
from shequn.lotteries.models import Win
from shequn.privacy.actions import do_delete_account, do_send_deletion_code
from shequn.redpackets import actions as redpacket_actions
from shequn.redpackets import selectors as redpacket_selectors
from shequn.redpackets.actions import PacketInput
from shequn.redpackets.models import RedPacket, RedPacketGrab
from shequn.testing.factories import CommunityFactory, MembershipFactory, StaffFactory
from shequn.testing.orders import make_member, make_shop
from shequn.wallets import ledger
from shequn.wallets.enums import AccountKind
from shequn.wallets.models import Account

from .helpers import person, promotions

pytestmark = pytest.mark.django_db

PHONE = "13655557777"


@pytest.fixture
def gate():
    previous = use_gate(LocalGate())
    yield
    use_gate(previous)


def delete(member, sms_outbox) -> User:
    do_send_deletion_code(member, ip=None)
    do_delete_account(member, sms_outbox.last_code(member.phone), ip=None)
    return User.objects.get(pk=member.pk)


def test_a_grab_queued_when_the_account_is_deleted_is_never_paid_and_its_part_goes_back(gate, sms_outbox):
    shop = make_shop()
    owner = StaffFactory.create(shop=shop, role="owner").user
    community = CommunityFactory.create(shop=shop)
    leaving, staying = person("柳如烟", PHONE, "柳如烟", "梧桐巷 17 号"), make_member(nickname="王小明")
    for user in (leaving, staying):
        MembershipFactory.create(community=community, user=user)
    now = timezone.now()
    packet = redpacket_actions.fund_packet(
        shop,
        owner,
        PacketInput(
            title="周末红包", total_fen=1000, count=2, split="equal", audience="community",
            community_id=community.pk, starts_at=now - timedelta(seconds=1), expires_at=now + timedelta(days=1),
        ),
    )  # fmt: skip
    assert redpacket_actions.grab(leaving, packet.pk).admitted  # queued at the gate, not written yet

    deleted = delete(leaving, sms_outbox)
    redpacket_actions.grab(staying, packet.pk)
    assert redpacket_actions.materialise_grabs(idle_ms=0) == 1

    assert list(RedPacketGrab.objects.filter(packet=packet).values_list("member_id", "amount_fen")) == [
        (staying.pk, 500)
    ]
    assert not Account.objects.filter(holder=deleted).exclude(balance_fen=0).exists()
    with pytest.raises(DomainError) as refused:
        redpacket_actions.grab(deleted, packet.pk)
    assert (refused.value.code, refused.value.message) == ("account_deleted", "账号已注销，不能领取红包")
    with pytest.raises(DomainError):
        redpacket_actions.issue_ticket(deleted, packet.pk)

    redpacket_actions.return_packet(packet.pk, now=now + timedelta(days=2))
    packet = RedPacket.objects.get(pk=packet.pk)
    assert (packet.grabbed_fen, packet.returned_fen) == (500, 500)
    books = redpacket_selectors.books(packet)
    assert (books.credited_fen, books.grab_rows_fen, books.holding_fen) == (500, 500, 0)
    assert sum(Account.objects.filter(shop=shop).values_list("balance_fen", flat=True)) == 0
    assert ledger.balance(shop, AccountKind.SPENDABLE, staying) == 500


def test_a_deleted_account_cannot_enter_a_lottery_nor_claim_its_prize(gate, sms_outbox):
    shop = make_shop()
    member = person("柳如烟", PHONE, "柳如烟", "梧桐巷 17 号")
    held = promotions(member, shop)
    win = Win.objects.get(lottery=held["lottery"], user=member)
    deleted = delete(member, sms_outbox)

    with pytest.raises(DomainError) as refused:
        lottery_actions.claim_prize(deleted, win.pk, fulfilment="pickup")
    assert (refused.value.code, refused.value.message) == ("account_deleted", "账号已注销，不能参与抽奖或领奖")
    win.refresh_from_db()
    assert (win.status, win.order_id) == ("won", None)
    # Entering (or spinning) asks the same check first, whatever the lottery's state.
    with pytest.raises(DomainError) as refused:
        lottery_actions.check_eligible(deleted, held["lottery"], timezone.now())
    assert refused.value.code == "account_deleted"
