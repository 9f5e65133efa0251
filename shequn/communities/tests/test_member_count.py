"""The member count every community page shows is read from ``MemberCount`` (kept by database
triggers), not counted: after every path that changes a membership (joins free, approved and
paid, removal, ban, refund, expiry and its sweep, set-based updates, bulk inserts, deletions),
the stored count equals the rows, and pages show the current members. PostgreSQL runs these
too (its triggers are statement-level: ``scripts/with-postgres .venv/bin/pytest`` this file);
parallel joins are in test_membership_postgres.py."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from shequn.accounts.models import User
from shequn.communities import actions, selectors
from shequn.communities.enums import JoinPolicy, MemberStatus
from shequn.communities.models import Community, CommunityMembership, JoinRequest, MemberCount
from shequn.communities.tests.test_membership_paid import ask_refund, buy, paid_community
from shequn.testing.factories import CommunityFactory, MembershipFactory, UserFactory
from shequn.testing.payments import sandbox, sandbox_key_dir
from shequn.testing.two_shops import login

pytestmark = pytest.mark.django_db

__all__ = ["paid_community", "sandbox", "sandbox_key_dir"]


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def counted(community: Community) -> int:
    """The current member count as pages read it, after checking the stored count against the rows."""
    rows = CommunityMembership.objects.filter(community=community)
    stored = MemberCount.objects.filter(community=community).values_list("active", flat=True).first() or 0
    assert stored == rows.filter(status=MemberStatus.ACTIVE).count()
    current = rows.filter(selectors.current_q()).count()
    assert selectors.current_member_count(community) == current
    listed = {row.pk: row.member_count for row in selectors.shop_communities(community.shop)}  # type: ignore[attr-defined]
    assert listed[community.pk] == current
    return current


def shown(user, community) -> int:
    """The member count in the header of the community's home, as ``user`` sees it."""
    page = login(user).get(reverse("communities:community_home", args=[community.pk])).content.decode()
    header = page.split('data-testid="community-header"')[1].split("</span>")[0]
    return int(re.findall(r"· (\d+) 位成员", header)[0])


def test_free_joins_removal_ban_and_rejoining(community, operator, member):
    others = [MembershipFactory.create(community=community) for _ in range(3)]
    assert counted(community) == 3
    actions.do_join(community, member)
    actions.do_join(community, member)  # twice changes nothing
    assert counted(community) == 4
    assert shown(member, community) == 4
    actions.do_remove_member(community, others[0], actor=operator)
    assert counted(community) == 3
    actions.do_remove_member(community, others[1], ban=True, actor=operator)
    assert counted(community) == 2
    actions.do_unban(community, CommunityMembership.objects.get(pk=others[1].pk), actor=operator)
    assert counted(community) == 2  # lifting a ban does not put the member back
    actions.do_join(community, others[0].user)  # the removed member comes back by invite
    assert counted(community) == 3
    actions.do_mute(community, others[2], timezone.now() + timedelta(hours=1), actor=operator)
    assert counted(community) == 3
    assert shown(member, community) == 3


def test_an_approved_application_counts_once_admitted(community, operator, member):
    actions.do_update_membership_settings(
        community.shop, community, join_policy=JoinPolicy.APPROVAL, fee_fen=0, actor=operator
    )
    actions.do_apply(community, member, "我住张江")
    assert counted(community) == 0
    actions.do_decide_join_request(
        community.shop, JoinRequest.objects.get(community=community, user=member), True, actor=operator
    )
    assert counted(community) == 1


def test_paid_entry_refund_expiry_sweep_and_renewal(sandbox, commit, paid_community, member):
    community = paid_community
    refunded = UserFactory.create()
    order = buy(refunded, community, commit)
    assert counted(community) == 1
    assert ask_refund(refunded, order, commit).status_code == 201  # within the window: membership ends
    assert counted(community) == 0
    buy(member, community, commit)
    lasting = MembershipFactory.create(community=community).user  # a member without expiry
    assert counted(community) == 2
    expires = CommunityMembership.objects.get(community=community, user=member).expires_at
    with time_machine.travel(expires, tick=False):
        # Past expiry, before the sweep: the row is still active, the page no longer counts it.
        assert counted(community) == 1
        assert shown(lasting, community) == 1
        assert actions.expire_memberships() == 1
        assert counted(community) == 1
        buy(member, community, commit, "续费")  # a former member renews
        assert counted(community) == 2


def test_set_based_updates_bulk_inserts_and_deletions(community, shop):
    second = CommunityFactory.create(shop=shop)
    users = [UserFactory.create() for _ in range(6)]
    CommunityMembership.objects.bulk_create(
        [CommunityMembership(community=community, user=user) for user in users[:4]]
        + [CommunityMembership(community=second, user=user) for user in users[4:]]
    )
    assert (counted(community), counted(second)) == (4, 2)
    CommunityMembership.objects.filter(user__in=users[:2]).update(status=MemberStatus.FORMER)
    CommunityMembership.objects.filter(user=users[4]).update(community=community)  # moved across
    assert (counted(community), counted(second)) == (3, 1)
    CommunityMembership.objects.filter(community=community).update(status=MemberStatus.ACTIVE)
    assert counted(community) == 5
    User.objects.filter(pk=users[0].pk).delete()  # memberships go with the account (cascade)
    assert counted(community) == 4
    second.delete()
    assert not MemberCount.objects.filter(community_id=second.pk).exists()
    assert counted(community) == 4
