"""Races only a real engine shows (PostgreSQL pass): ten members joining a team of three at once
take exactly the two free seats; the last payments landing together succeed the team once."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from shequn.notifications.models import Notification
from shequn.orders import actions as order_actions
from shequn.orders.models import RefundRequest
from shequn.teambuy import actions
from shequn.teambuy.enums import MemberStatus, TeamStatus
from shequn.teambuy.models import Team, TeamMember, TeamOffer
from shequn.testing.factories import PickupPointFactory, ShopFactory, UserFactory
from shequn.testing.orders import make_sku
from shequn.testing.postgres import run_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def make_offer(team_size: int) -> tuple[TeamOffer, actions.Destination]:
    shop = ShopFactory.create()
    sku = make_sku(shop, price_fen=5990, stock=100)
    offer = TeamOffer.objects.create(
        shop=shop,
        sku=sku,
        title="鱼头团",
        team_size=team_size,
        team_price_fen=3990,
        starts_at=timezone.now() - timedelta(minutes=1),
    )
    point = PickupPointFactory.create(shop=shop)
    return offer, actions.Destination(fulfilment="pickup", pickup_point_id=point.pk)


def test_ten_members_joining_a_team_of_three_at_once_take_exactly_two_seats():
    offer, destination = make_offer(team_size=3)
    team = actions.do_open_team(UserFactory.create(), offer.pk, destination).team
    users = [UserFactory.create() for _ in range(10)]

    def join(user) -> Callable[[], str]:
        return lambda: str(actions.do_join_team(user, team.pk, destination).status)

    outcomes = run_at_once([join(user) for user in users])
    assert outcomes == ["pending"] * 2 + ["team_full"] * 8
    team.refresh_from_db()
    assert team.seats_taken == 3
    assert TeamMember.objects.filter(team=team, status=MemberStatus.PENDING).count() == 3
    offer.sku.refresh_from_db()
    assert offer.sku.stock == 97  # only the three seated members hold a unit


def test_one_member_double_tapping_join_gets_one_seat():
    offer, destination = make_offer(team_size=5)
    team = actions.do_open_team(UserFactory.create(), offer.pk, destination).team
    user = UserFactory.create()
    outcomes = run_at_once([lambda: str(actions.do_join_team(user, team.pk, destination).status)] * 4)
    assert outcomes == ["already_in_team"] * 3 + ["pending"]
    team.refresh_from_db()
    assert team.seats_taken == 2


def test_the_last_payments_landing_together_succeed_the_team_once():
    offer, destination = make_offer(team_size=4)
    opener = UserFactory.create()
    first = actions.do_open_team(opener, offer.pk, destination)
    others = [actions.do_join_team(UserFactory.create(), first.team_id, destination) for _ in range(3)]
    members = [first, *others]

    def pay(member) -> Callable[[], bool]:
        return lambda: order_actions.mark_paid(member.order)

    assert run_at_once([pay(member) for member in members]) == [True] * 4
    team = Team.objects.get(pk=first.team_id)
    assert (team.status, team.paid_count) == (TeamStatus.SUCCEEDED, 4)
    assert Notification.objects.filter(kind="teambuy.succeeded").count() == 4
    assert sorted(Notification.objects.filter(kind="teambuy.succeeded").values_list("user_id", flat=True)) == sorted(
        member.user_id for member in members
    )


def test_a_payment_racing_the_expiry_is_refunded_exactly_once_either_way():
    offer, destination = make_offer(team_size=3)
    first = actions.do_open_team(UserFactory.create(), offer.pk, destination)
    second = actions.do_join_team(UserFactory.create(), first.team_id, destination)
    racing = actions.do_join_team(UserFactory.create(), first.team_id, destination)
    order_actions.mark_paid(first.order)
    order_actions.mark_paid(second.order)
    Team.objects.filter(pk=first.team_id).update(expires_at=timezone.now() - timedelta(seconds=1))

    outcomes = run_at_once([lambda: actions.expire_team(first.team_id), lambda: order_actions.mark_paid(racing.order)])
    team = Team.objects.get(pk=first.team_id)
    assert team.status == TeamStatus.FAILED
    racing.refresh_from_db()
    racing.order.refresh_from_db()
    if racing.order.paid_at is not None:  # the payment landed first: refunded with the others
        assert racing.status == MemberStatus.REFUNDED
        assert RefundRequest.objects.filter(order=racing.order).count() == 1
        paid = 3
    else:  # the expiry cancelled the order first: the payment was refused
        assert "invalid_transition" in outcomes
        assert racing.status == MemberStatus.LEFT
        assert RefundRequest.objects.filter(order=racing.order).count() == 0
        paid = 2
    for member in (first, second):
        member.refresh_from_db()
        assert member.status == MemberStatus.REFUNDED
        assert RefundRequest.objects.filter(order=member.order).count() == 1
    assert RefundRequest.objects.count() == paid
    assert TeamMember.objects.filter(team=team, status__in=[MemberStatus.PENDING, MemberStatus.PAID]).count() == 0
