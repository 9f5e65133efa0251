"""Paid membership through the real order API and the sandbox cashier, as a member does it:
joining with attribution, renewal reminders, expiry, renewal, the refund rule (the fee comes
back exactly once), the capacity, and the checkout refusing what the rules refuse."""

import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from shequn.communities import actions, selectors
from shequn.communities.enums import JoinPolicy, JoinRequestStatus, MemberStatus, TermKind
from shequn.communities.models import CommunityMembership, MembershipTerm
from shequn.communities.rules import MembershipRules
from shequn.notifications.models import Notification
from shequn.testing.catalog import api_token_for
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


JSON = "application/json"


def sku(community, spec="入会"):
    return selectors.fee_skus(community)[spec]


def api(user) -> Client:
    return Client(headers=api_token_for(user, token=f"membership-{user.pk}-{uuid.uuid4().hex}"))


def order_fee(user, community, spec="入会", quantity=1):
    """POST /api/v1/orders for the fee SKU; the response (201, or the rules' refusal)."""
    return api(user).post(
        "/api/v1/orders",
        {"sku_id": sku(community, spec).pk, "quantity": quantity, "fulfilment": "none", "payment_method": "sandbox"},
        content_type=JSON,
    )


def pay(user, number, commit):
    """Start paying and confirm on the sandbox cashier page; the cashier's response."""
    pay_url = api(user).post(f"/api/v1/payments/orders/{number}/pay").json()["pay_url"]
    with commit():
        return login(user).post(urlsplit(pay_url).path, {"action": "confirm"})


def order_of(user, number) -> dict:
    return api(user).get(f"/api/v1/orders/{number}").json()


def buy(user, community, commit, spec="入会") -> dict:
    created = order_fee(user, community, spec)
    assert created.status_code == 201, created.content
    pay(user, created.json()["number"], commit)
    return order_of(user, created.json()["number"])


def ask_refund(user, order: dict, commit, amount=FEE):
    with commit():
        return api(user).post(
            f"/api/v1/orders/{order['number']}/refunds",
            {"line_id": order["lines"][0]["id"], "amount_fen": amount, "reason": "不想参加了"},
            content_type=JSON,
        )


def refunds_of(user) -> list[tuple[str, int]]:
    return [(row["status"], row["amount_fen"]) for row in api(user).get("/api/v1/orders/refunds").json()["items"]]


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

    created = order_fee(member, community)
    assert created.status_code == 201
    assert (created.json()["kind"], created.json()["total_fen"]) == ("membership", FEE)
    paid_at = timezone.now()
    cashier = pay(member, created.json()["number"], commit)
    assert cashier["Location"] == f"/c/{community.pk}/"  # the landing page: the community
    order = order_of(member, created.json()["number"])
    assert order["status"] == "completed"
    membership = CommunityMembership.objects.get(community=community, user=member)
    assert (membership.status, membership.invited_by, membership.channel) == (MemberStatus.ACTIVE, inviter, channel)
    assert membership.expires_at is not None
    assert abs(membership.expires_at - (paid_at + timedelta(days=365))) < timedelta(minutes=1)
    term = MembershipTerm.objects.get(membership=membership)
    assert (term.kind, term.amount_fen, term.line_id, term.ends_at) == (
        TermKind.JOIN,
        FEE,
        order["lines"][0]["id"],
        membership.expires_at,
    )
    assert community.join_requests.get(user=member).status == JoinRequestStatus.JOINED
    assert selectors.is_community_member(member, community)
    assert Notification.objects.get(user=member, kind="community.membership_paid").title == "欢迎加入「张江三文鱼群」"
    twice = order_fee(member, community)
    assert (twice.status_code, twice.json()["code"]) == (409, "already_member")


def test_paid_is_idempotent_per_order_line(sandbox, commit, paid_community, member):
    order = buy(member, paid_community, commit)
    membership = CommunityMembership.objects.get(community=paid_community, user=member)
    expires = membership.expires_at

    class Line:
        pk = order["lines"][0]["id"]
        product_id = sku(paid_community).product_id
        spec = "入会"
        total_fen = FEE

    class Order:
        pk = 0
        user = member
        paid_at = None

    assert MembershipRules().paid(Order(), Line()) is None
    membership.refresh_from_db()
    assert membership.expires_at == expires
    assert MembershipTerm.objects.filter(membership=membership).count() == 1


def test_expiry_reminder_loss_of_access_and_renewal(sandbox, commit, paid_community, member):
    community = paid_community
    buy(member, community, commit)
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
        renewal = buy(member, community, commit, "续费")
        assert (renewal["total_fen"], renewal["status"]) == (6900, "completed")
        membership.refresh_from_db()
        assert membership.status == MemberStatus.ACTIVE
        assert membership.expires_at == timezone.now() + timedelta(days=365)
        assert login(member).get(board).status_code == 200
    terms = list(MembershipTerm.objects.filter(membership=membership).values_list("kind", "amount_fen"))
    assert terms == [(TermKind.JOIN, FEE), (TermKind.RENEWAL, 6900)]


def test_early_renewal_extends_from_the_current_expiry(sandbox, commit, paid_community, member):
    community = paid_community
    buy(member, community, commit)
    membership = CommunityMembership.objects.get(community=community, user=member)
    first_expiry = membership.expires_at
    assert first_expiry is not None
    buy(member, community, commit, "续费")
    membership.refresh_from_db()
    assert membership.expires_at == first_expiry + timedelta(days=365)
    renewal_term = MembershipTerm.objects.get(membership=membership, kind=TermKind.RENEWAL)
    assert renewal_term.starts_at == first_expiry


def test_refund_inside_the_window_ends_membership_and_returns_the_fee_exactly_once(
    sandbox, commit, paid_community, member
):
    community = paid_community
    order = buy(member, community, commit)
    with time_machine.travel(timezone.now() + timedelta(days=2, hours=23), tick=False):
        asked = ask_refund(member, order, commit)
        assert asked.status_code == 201
        now = timezone.now()
    assert refunds_of(member) == [("refunded", FEE)]  # approved by the rule, no staff
    order = order_of(member, order["number"])
    assert (order["refunded_fen"], order["lines"][0]["refunded_fen"]) == (FEE, FEE)
    membership = CommunityMembership.objects.get(community=community, user=member)
    assert (membership.status, membership.expires_at) == (MemberStatus.FORMER, now)
    assert MembershipTerm.objects.get(membership=membership).refunded_at == now
    assert not selectors.is_community_member(member, community)
    again = ask_refund(member, order, commit)
    assert (again.status_code, again.json()["code"]) == (409, "fee_already_refunded")

    # The refunded hook running again (a repeated gateway notification) changes nothing more.
    class Line:
        pk = order["lines"][0]["id"]

    assert actions.end_refunded_term(None, Line(), FEE) is False
    assert refunds_of(member) == [("refunded", FEE)]
    assert order_of(member, order["number"])["refunded_fen"] == FEE
    assert Notification.objects.filter(user=member, kind="community.fee_refunded").count() == 1


def test_no_refund_after_the_refund_window(sandbox, commit, paid_community, member):
    order = buy(member, paid_community, commit)
    with time_machine.travel(timezone.now() + timedelta(days=3, minutes=1), tick=False):
        closed = ask_refund(member, order, commit)
    assert closed.status_code == 409
    assert (closed.json()["code"], closed.json()["message"]) == ("refund_window_closed", "加入超过 3 天，不支持退款")
    assert selectors.is_community_member(member, paid_community)
    assert refunds_of(member) == []


def test_only_the_latest_term_is_refundable(sandbox, commit, paid_community, member):
    first = buy(member, paid_community, commit)
    buy(member, paid_community, commit, "续费")
    older = ask_refund(member, first, commit)
    assert (older.status_code, older.json()["code"]) == (409, "refund_not_latest")


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
    first_order, second_order = order_fee(first, community).json(), order_fee(second, community).json()
    pay(first, first_order["number"], commit)
    pay(second, second_order["number"], commit)
    assert selectors.is_community_member(first, community)
    assert not CommunityMembership.objects.filter(community=community, user=second).exists()
    assert order_of(second, second_order["number"])["refunded_fen"] == FEE
    assert refunds_of(second) == [("refunded", FEE)]
    assert Notification.objects.get(user=second, kind="community.fee_refunded").body == "社群名额已满，已为你全额退款"
    full = order_fee(UserFactory.create(), community)
    assert (full.status_code, full.json()["code"]) == (409, "community_full")


def test_checkout_refuses_what_the_rules_refuse(paid_community, member):
    community = paid_community
    renew_first = order_fee(member, community, "续费")
    assert (renew_first.status_code, renew_first.json()["code"]) == (409, "renewal_not_allowed")
    two = order_fee(member, community, quantity=2)
    assert (two.status_code, two.json()["code"]) == (422, "membership_quantity")
    banned = MembershipFactory.create(community=community, status=MemberStatus.BANNED).user
    barred = order_fee(banned, community)
    assert (barred.status_code, barred.json()["code"]) == (403, "member_banned")
    assert api(member).get("/api/v1/orders").json()["count"] == 0
