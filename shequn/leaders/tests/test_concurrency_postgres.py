"""Races only a real engine shows (PostgreSQL pass): a member's simultaneous applications make
exactly one, and two operators approving at once open exactly one pickup point."""

from collections.abc import Callable

import pytest

from shequn.communities.models import SubGroup
from shequn.core.models import AuditLog
from shequn.leaders import actions
from shequn.leaders.enums import LeaderStatus
from shequn.leaders.models import Leader
from shequn.notifications.models import Notification
from shequn.shops.enums import StaffRole
from shequn.shops.models import PickupPoint
from shequn.testing.factories import CommunityFactory, MembershipFactory, StaffFactory, UserFactory
from shequn.testing.postgres import run_at_once

from .conftest import POINT

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _setup():
    community = CommunityFactory.create()
    estate = SubGroup.objects.create(community=community, name="阳光花园", kind="neighbourhood")
    member = UserFactory.create(nickname="王小明")
    MembershipFactory.create(community=community, user=member)
    return community.shop, community, estate, member


def test_simultaneous_applications_by_one_member_make_exactly_one():
    shop, community, estate, member = _setup()

    def apply(n: int) -> Callable[[], str]:
        def call() -> str:
            actions.do_apply(
                member, shop, community_id=community.pk, sub_group_id=estate.pk, **{**POINT, "point_name": f"点{n}"}
            )
            return "ok"

        return call

    outcomes = run_at_once([apply(n) for n in range(6)])
    assert outcomes == ["leader_application_exists"] * 5 + ["ok"]
    assert Leader.objects.filter(shop=shop, user=member).count() == 1


def test_two_operators_approving_at_once_open_one_pickup_point():
    shop, community, estate, member = _setup()
    leader = actions.do_apply(member, shop, community_id=community.pk, sub_group_id=estate.pk, **POINT)
    operators = [StaffFactory.create(shop=shop, role=StaffRole.OPERATOR).user for _ in range(2)]

    def approve(actor, rate: int) -> Callable[[], str]:
        def call() -> str:
            actions.do_approve(shop, leader, commission_rate_bp=rate, actor=actor)
            return "ok"

        return call

    outcomes = run_at_once([approve(operators[0], 1000), approve(operators[1], 1200)])
    assert outcomes == ["leader_invalid_transition", "ok"]
    leader.refresh_from_db()
    assert leader.status == LeaderStatus.ACTIVE
    assert PickupPoint.objects.filter(shop=shop).count() == 1
    assert AuditLog.objects.filter(action="leaders.approve").count() == 1
    assert Notification.objects.filter(user=member, kind="leaders.approved").count() == 1
