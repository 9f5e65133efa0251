"""Concurrent joins never overfill a sub-group, and concurrent transfers leave one owner (PostgreSQL pass)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from shequn.communities import actions
from shequn.communities.enums import MemberRole
from shequn.communities.models import CommunityMembership, SubGroup
from shequn.core.errors import Conflict
from shequn.shops.enums import StaffRole
from shequn.testing.factories import CommunityFactory, MembershipFactory, StaffFactory


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_sub_group_joins_stop_at_capacity():
    operator = StaffFactory.create(role=StaffRole.OPERATOR)
    community = CommunityFactory.create(shop=operator.shop)
    group = actions.do_create_sub_group(community, "张江群", capacity=5, actor=operator.user)
    members = [MembershipFactory.create(community=community).user for _ in range(20)]
    start = threading.Barrier(len(members))

    def run(user) -> str:
        try:
            start.wait(timeout=30)
            actions.do_join_sub_group(user, SubGroup.objects.get(pk=group.pk))
            return "joined"
        except Conflict as error:
            return error.code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(members)) as pool:
        outcomes = list(pool.map(run, members))
    assert outcomes.count("joined") == 5
    assert outcomes.count("sub_group_full") == 15
    group.refresh_from_db()
    assert group.member_count == 5
    assert CommunityMembership.objects.filter(sub_group=group).count() == 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_ownership_transfers_leave_exactly_one_owner():
    operator = StaffFactory.create(role=StaffRole.OPERATOR)
    community = CommunityFactory.create(shop=operator.shop)
    candidates = [MembershipFactory.create(community=community) for _ in range(8)]
    start = threading.Barrier(len(candidates))

    def run(membership) -> str:
        try:
            start.wait(timeout=30)
            actions.do_transfer_ownership(community, membership, actor=operator.user)
            return "ok"
        except Exception as error:
            return type(error).__name__
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(candidates)) as pool:
        list(pool.map(run, candidates))
    assert CommunityMembership.objects.filter(community=community, role=MemberRole.OWNER).count() == 1
