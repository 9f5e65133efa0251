"""Paid membership through the real order and sandbox payment flow: joining with attribution,
renewal reminders, expiry, renewal, the refund rule (the fee comes back exactly once), the
capacity, and the checkout refusing what the rules refuse."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from shequn.communities import actions, selectors
from shequn.communities.enums import JoinPolicy, JoinRequestStatus, MemberStatus, TermKind
from shequn.communities.models import CommunityMembership, MembershipTerm
from shequn.core.errors import DomainError
from shequn.notifications.models import Notification
from shequn.orders import actions as order_actions
from shequn.orders.enums import OrderStatus, PaymentMethod, RefundStatus
from shequn.orders.models import Order, RefundRequest
from shequn.orders.selectors import after_payment_url
from shequn.payments import actions as payment_actions
from shequn.payments.sandbox import server
from shequn.testing.factories import MembershipFactory, UserFactory
from shequn.testing.payments import sandbox, sandbox_key_dir
from shequn.testing.two_shops import login

pytestmark = pytest.mark.django_db

__all__ = ["sandbox", "sandbox_key_dir"]

FEE = 9900


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def paid_community(community, operator):
    actions.do_update_membership_settings(
        community.shop,
        community,
        join_policy=JoinPolicy.OPEN,
        fee_fen=FEE,
        renewal_fee_fen=6900,
        validity_days=365,
        refund_days=3,
        renewal_reminder_days=7,
        actor=operator,
    )
    return community


def sku(community, spec="入会"):
    return selectors.fee_skus(community)[spec]


def buy(user, community, spec="入会"):
    return order_actions.create_order(
        user, sku_id=sku(community, spec).pk, quantity=1, fulfilment="none", payment_method=PaymentMethod.SANDBOX
    )


def pay(order, commit):
    url = payment_actions.start_payment(order, order.user)
    with commit():
        server.confirm(url.rstrip("/").rsplit("/", 1)[-1])
    order.refresh_from_db()
    return order


def ask_refund(order, commit, amount=FEE):
    with commit():
        request = order_actions.request_refund(
            order.user, order.number, order.lines.get().pk, amount_fen=amount, reason="不想参加了"
        )
    request.refresh_from_db()
    return request


def test_paying_the_fee_makes_a_member_carrying_the_invite(sandbox, commit, paid_community, operator, member):
    community = paid_community
    inviter = MembershipFactory.create(community=community).user
    channel = actions.do_create_channel(community, "地铁海报", code="metro", actor=operator)
    url = reverse("communities:join", args=[community.invite_code]) + f"?from={inviter.pk}&ch=metro"
    page = login(member).get(url).content.decode()
    assert 'data-testid="fee">¥99.00<' in page
    assert 'data-testid="validity">365 天<' in page
    assert 'data-testid="refund-rule">加入 3 天内可申请全额退款<' in page
    went = login(member).post(url, {"action": "pay", "from": str(inviter.pk), "ch": "metro"})
    assert went["Location"] == f"/checkout/?sku={sku(community).pk}&quantity=1"
    assert not selectors.is_community_member(member, community)

    order = buy(member, community)
    assert order.total_fen == FEE
    paid_at = timezone.now()
    order = pay(order, commit)
    assert order.status == OrderStatus.COMPLETED
    membership = CommunityMembership.objects.get(community=community, user=member)
    assert (membership.status, membership.invited_by, membership.channel) == (MemberStatus.ACTIVE, inviter, channel)
    assert membership.expires_at is not None
    assert abs(membership.expires_at - (paid_at + timedelta(days=365))) < timedelta(minutes=1)
    term = MembershipTerm.objects.get(membership=membership)
    assert (term.kind, term.amount_fen, term.order_id, term.ends_at) == (
        TermKind.JOIN,
        FEE,
        order.pk,
        membership.expires_at,
    )
    assert community.join_requests.get(user=member).status == JoinRequestStatus.JOINED
    assert after_payment_url(order) == f"/c/{community.pk}/"
    assert selectors.is_community_member(member, community)
    assert Notification.objects.get(user=member, kind="community.membership_paid").title == "欢迎加入「张江三文鱼群」"
    with pytest.raises(DomainError) as twice:
        buy(member, community)
    assert twice.value.code == "already_member"
    # paid() is idempotent per order line.
    from shequn.communities.rules import MembershipRules

    assert MembershipRules().paid(order, order.lines.get()) is None
    assert MembershipTerm.objects.filter(membership=membership).count() == 1


def test_expiry_reminder_loss_of_access_and_renewal(sandbox, commit, paid_community, member):
    community = paid_community
    start = timezone.now()
    order = pay(buy(member, community), commit)
    membership = CommunityMembership.objects.get(community=community, user=member)
    expires = membership.expires_at
    assert expires is not None
    board = reverse("board:board_home", args=[community.pk])
    with time_machine.travel(expires - timedelta(days=7, minutes=-1), tick=False):
        assert actions.send_renewal_reminders() == 1
        assert actions.send_renewal_reminders() == 0
    reminder = Notification.objects.get(user=member, kind="community.renewal_reminder")
    assert reminder.body == "续费 ¥69.00 可再享 365 天，到期后将无法查看社群内容。"
    assert reminder.link == reverse("communities:join", args=[community.invite_code])
    with time_machine.travel(expires + timedelta(hours=1), tick=False):
        assert login(member).get(board).status_code == 404
        assert not selectors.is_community_member(member, community)
        assert actions.expire_memberships() == 1
        membership.refresh_from_db()
        assert membership.status == MemberStatus.FORMER
        # The former member is offered the renewal (at the renewal price).
        page = login(member).get(reverse("communities:join", args=[community.invite_code])).content.decode()
        assert 'data-testid="renew-button">续费 ¥69.00<' in page
        renewal = pay(buy(member, community, "续费"), commit)
        assert renewal.total_fen == 6900
        membership.refresh_from_db()
        assert membership.status == MemberStatus.ACTIVE
        assert membership.expires_at == timezone.now() + timedelta(days=365)
        assert login(member).get(board).status_code == 200
    terms = list(MembershipTerm.objects.filter(membership=membership).values_list("kind", "amount_fen"))
    assert terms == [(TermKind.JOIN, FEE), (TermKind.RENEWAL, 6900)]
    assert order.pk != renewal.pk
    assert start < membership.expires_at


def test_early_renewal_extends_from_the_current_expiry(sandbox, commit, paid_community, member):
    community = paid_community
    pay(buy(member, community), commit)
    membership = CommunityMembership.objects.get(community=community, user=member)
    first_expiry = membership.expires_at
    assert first_expiry is not None
    pay(buy(member, community, "续费"), commit)
    membership.refresh_from_db()
    assert membership.expires_at == first_expiry + timedelta(days=365)
    renewal_term = MembershipTerm.objects.get(membership=membership, kind=TermKind.RENEWAL)
    assert renewal_term.starts_at == first_expiry


def test_refund_inside_the_window_ends_membership_and_returns_the_fee_exactly_once(
    sandbox, commit, paid_community, member
):
    community = paid_community
    order = pay(buy(member, community), commit)
    with time_machine.travel(timezone.now() + timedelta(days=2, hours=23), tick=False):
        request = ask_refund(order, commit)
        assert request.status == RefundStatus.REFUNDED
        assert request.decided_by is None  # approved by the rule, no staff
        now = timezone.now()
    order.refresh_from_db()
    assert (order.refunded_fen, order.lines.get().refunded_fen) == (FEE, FEE)
    membership = CommunityMembership.objects.get(community=community, user=member)
    assert (membership.status, membership.expires_at) == (MemberStatus.FORMER, now)
    assert MembershipTerm.objects.get(membership=membership).refunded_at == now
    assert not selectors.is_community_member(member, community)
    with pytest.raises(DomainError) as again:
        ask_refund(order, commit)
    assert again.value.code == "fee_already_refunded"
    # The refunded hook running twice (a repeated gateway notification) changes nothing more.
    assert actions.end_refunded_term(order, order.lines.get(), FEE) is False
    assert RefundRequest.objects.filter(order=order).count() == 1
    assert Order.objects.get(pk=order.pk).refunded_fen == FEE
    assert Notification.objects.filter(user=member, kind="community.fee_refunded").count() == 1


def test_no_refund_after_the_refund_window(sandbox, commit, paid_community, member):
    order = pay(buy(member, paid_community), commit)
    with (
        time_machine.travel(timezone.now() + timedelta(days=3, minutes=1), tick=False),
        pytest.raises(DomainError) as closed,
    ):
        ask_refund(order, commit)
    assert (closed.value.code, closed.value.message) == ("refund_window_closed", "加入超过 3 天，不支持退款")
    assert selectors.is_community_member(member, paid_community)
    assert RefundRequest.objects.count() == 0


def test_only_the_latest_term_is_refundable(sandbox, commit, paid_community, member):
    first = pay(buy(member, paid_community), commit)
    pay(buy(member, paid_community, "续费"), commit)
    with pytest.raises(DomainError) as older:
        ask_refund(first, commit)
    assert older.value.code == "refund_not_latest"


def test_the_last_seat_goes_to_the_first_payer_and_the_other_fee_comes_back(sandbox, commit, community, operator):
    actions.do_update_membership_settings(
        community.shop,
        community,
        join_policy=JoinPolicy.OPEN,
        fee_fen=FEE,
        validity_days=365,
        capacity=1,
        actor=operator,
    )
    first, second = UserFactory.create(), UserFactory.create()
    first_order, second_order = buy(first, community), buy(second, community)  # both see one seat left
    pay(first_order, commit)
    second_order = pay(second_order, commit)
    assert selectors.is_community_member(first, community)
    assert not CommunityMembership.objects.filter(community=community, user=second).exists()
    assert second_order.refunded_fen == FEE
    assert RefundRequest.objects.get(order=second_order).status == RefundStatus.REFUNDED
    assert Notification.objects.get(user=second, kind="community.fee_refunded").body == "社群名额已满，已为你全额退款"
    with pytest.raises(DomainError) as full:
        buy(UserFactory.create(), community)
    assert full.value.code == "community_full"


def test_checkout_refuses_what_the_rules_refuse(paid_community, operator, member):
    community = paid_community
    with pytest.raises(DomainError) as renew_first:
        buy(member, community, "续费")
    assert renew_first.value.code == "renewal_not_allowed"
    with pytest.raises(DomainError) as two:
        order_actions.create_order(
            member, sku_id=sku(community).pk, quantity=2, fulfilment="none", payment_method=PaymentMethod.SANDBOX
        )
    assert two.value.code == "membership_quantity"
    banned = MembershipFactory.create(community=community, status=MemberStatus.BANNED).user
    with pytest.raises(DomainError) as barred:
        buy(banned, community)
    assert barred.value.code == "member_banned"
    assert Order.objects.count() == 0
