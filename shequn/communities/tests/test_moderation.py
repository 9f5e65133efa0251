"""Roles and moderation: mute, remove, ban, roles, ownership, tags; sub-groups and their split."""

from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from shequn.communities import actions, selectors
from shequn.communities.enums import MemberRole, MemberStatus, SubGroupKind
from shequn.communities.models import CommunityMembership, SubGroup
from shequn.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from shequn.core.models import AuditLog
from shequn.shops.enums import StaffRole
from shequn.testing.factories import CommunityFactory, MembershipFactory, StaffFactory, UserFactory
from shequn.testing.two_shops import login

pytestmark = pytest.mark.django_db


def _member(community, **fields):
    return MembershipFactory.create(community=community, **fields)


# --- mute ----------------------------------------------------------------------------------


def test_muted_member_is_muted_until_the_time(community, operator, time_machine):
    time_machine.move_to("2026-06-01 09:00:00+08:00", tick=False)
    target = _member(community)
    assert not selectors.is_muted(target.user, community)
    actions.do_mute(community, target, timezone.now() + timedelta(hours=2), actor=operator, ip="10.0.0.1")
    assert selectors.is_muted(target.user, community)
    assert selectors.is_community_member(target.user, community)  # muted members still read
    time_machine.move_to("2026-06-01 10:59:59+08:00", tick=False)
    assert selectors.is_muted(target.user, community)
    time_machine.move_to("2026-06-01 11:00:01+08:00", tick=False)
    assert not selectors.is_muted(target.user, community)
    log = AuditLog.objects.get(action="member.mute")
    assert (log.actor, log.shop, log.ip) == (operator, community.shop, "10.0.0.1")


def test_mute_in_the_past_is_refused_and_unmute_works(community, operator):
    target = _member(community)
    with pytest.raises(InvalidInput):
        actions.do_mute(community, target, timezone.now() - timedelta(minutes=1), actor=operator)
    actions.do_mute(community, target, timezone.now() + timedelta(days=1), actor=operator)
    actions.do_unmute(community, target, actor=operator)
    assert not selectors.is_muted(target.user, community)


# --- remove, ban ---------------------------------------------------------------------------


def test_removed_member_loses_access_and_may_rejoin(community, operator):
    target = _member(community)
    actions.do_remove_member(community, target, actor=operator)
    assert not selectors.is_community_member(target.user, community)
    assert not selectors.is_shop_member(target.user, community.shop)
    membership, created = actions.do_join(community, target.user)
    assert created
    assert membership.status == MemberStatus.ACTIVE


def test_banned_member_cannot_rejoin_via_invite(community, operator, member):
    inviter = _member(community).user
    actions.do_join(community, member, inviter_id=inviter.pk)
    target = CommunityMembership.objects.get(community=community, user=member)
    actions.do_remove_member(community, target, ban=True, actor=operator, ip="10.0.0.2")
    assert not selectors.is_community_member(member, community)
    with pytest.raises(PermissionDenied) as refused:
        actions.do_join(community, member, inviter_id=inviter.pk)
    assert refused.value.code == "member_banned"
    url = reverse("communities:join", args=[community.invite_code]) + f"?from={inviter.pk}"
    page = login(member).get(url).content.decode()
    assert 'data-testid="banned"' in page
    assert 'data-testid="join-button"' not in page
    response = login(member).post(url, {"from": str(inviter.pk)})
    assert response.status_code == 403
    assert "禁止再次加入" in response.content.decode()
    target.refresh_from_db()
    assert target.status == MemberStatus.BANNED
    assert AuditLog.objects.filter(action="member.ban", shop=community.shop, ip="10.0.0.2").count() == 1
    actions.do_unban(community, target, actor=operator)
    assert actions.do_join(community, member)[1]


# --- who may moderate -------------------------------------------------------------------------


def test_community_admins_moderate_but_not_the_owner_or_each_other(community, operator):
    owner = _member(community, role=MemberRole.OWNER)
    admin = _member(community, role=MemberRole.ADMIN)
    other_admin = _member(community, role=MemberRole.ADMIN)
    plain = _member(community)
    until = timezone.now() + timedelta(hours=1)
    actions.do_mute(community, plain, until, actor=admin.user)
    assert selectors.is_muted(plain.user, community)
    with pytest.raises(PermissionDenied):
        actions.do_mute(community, other_admin, until, actor=admin.user)
    with pytest.raises(PermissionDenied):
        actions.do_remove_member(community, owner, actor=admin.user)
    with pytest.raises(PermissionDenied):
        actions.do_set_role(community, plain, MemberRole.ADMIN, actor=admin.user)
    with pytest.raises(PermissionDenied):
        actions.do_mute(community, other_admin, until, actor=plain.user)
    actions.do_remove_member(community, other_admin, actor=owner.user)
    other_admin.refresh_from_db()
    assert (other_admin.status, other_admin.role) == (MemberStatus.REMOVED, MemberRole.MEMBER)
    log = AuditLog.objects.get(action="member.remove")
    assert (log.actor, log.shop) == (owner.user, community.shop)


def test_staff_without_manage_communities_may_not_moderate(community):
    service = StaffFactory.create(shop=community.shop, role=StaffRole.SERVICE).user
    with pytest.raises(PermissionDenied):
        actions.do_remove_member(community, _member(community), actor=service)


def test_staff_of_another_shop_may_not_moderate(community, other_operator):
    with pytest.raises(PermissionDenied):
        actions.do_remove_member(community, _member(community), actor=other_operator)


# --- roles and ownership -------------------------------------------------------------------


def test_transfer_ownership_leaves_exactly_one_owner(community, operator):
    first = _member(community)
    second = _member(community)
    actions.do_transfer_ownership(community, first, actor=operator)  # staff appoint the first owner
    actions.do_transfer_ownership(community, second, actor=first.user)  # the owner hands over
    owners = CommunityMembership.objects.filter(community=community, role=MemberRole.OWNER)
    assert list(owners.values_list("user_id", flat=True)) == [second.user_id]
    first.refresh_from_db()
    assert first.role == MemberRole.ADMIN
    with pytest.raises(PermissionDenied):
        actions.do_transfer_ownership(community, first, actor=first.user)  # an admin cannot take it back
    assert AuditLog.objects.filter(action="community.transfer_owner").count() == 2


def test_database_refuses_a_second_owner(community):
    _member(community, role=MemberRole.OWNER)
    with pytest.raises(IntegrityError):
        _member(community, role=MemberRole.OWNER)


def test_set_role_admin_and_leader(community, operator):
    target = _member(community)
    actions.do_set_role(community, target, MemberRole.LEADER, actor=operator)
    assert target.role == MemberRole.LEADER
    with pytest.raises(InvalidInput):
        actions.do_set_role(community, target, MemberRole.OWNER, actor=operator)


# --- tags ------------------------------------------------------------------------------------


def test_tags_and_filter_members_by_tag_channel_and_status(community, operator, other_shop):
    vip = actions.do_create_tag(community, "老客户", actor=operator)
    with pytest.raises(InvalidInput):
        actions.do_create_tag(community, "老客户", actor=operator)
    channel = actions.do_create_channel(community, "市集", code="market", actor=operator)
    tagged = _member(community)
    joined = actions.do_join(community, UserFactory.create(), channel_code="market")[0]
    removed = _member(community)
    actions.do_set_member_tags(community, tagged, [vip.pk], actor=operator)
    actions.do_remove_member(community, removed, actor=operator)
    assert list(selectors.community_members(community, tag_id=vip.pk)) == [tagged]
    assert list(selectors.community_members(community, channel_id=channel.pk)) == [joined]
    assert list(selectors.community_members(community, status=MemberStatus.REMOVED)) == [removed]
    foreign = actions.do_create_tag(
        CommunityFactory.create(shop=other_shop), "外店", actor=StaffFactory.create(shop=other_shop).user
    )
    with pytest.raises(NotFound):
        actions.do_set_member_tags(community, tagged, [foreign.pk], actor=operator)


# --- sub-groups ------------------------------------------------------------------------------


def test_full_sub_group_refuses_a_join(community, operator):
    group = actions.do_create_sub_group(community, "张江小区群", SubGroupKind.NEIGHBOURHOOD, capacity=2, actor=operator)
    first, second, third = (_member(community) for _ in range(3))
    actions.do_join_sub_group(first.user, group)
    actions.do_join_sub_group(second.user, group)
    with pytest.raises(Conflict) as full:
        actions.do_join_sub_group(third.user, group)
    assert full.value.code == "sub_group_full"
    assert "已满" in full.value.message
    group.refresh_from_db()
    assert group.member_count == 2
    third.refresh_from_db()
    assert third.sub_group is None
    # through the member page: a clear message, nobody added
    response = login(third.user).post(
        reverse("communities:sub_groups", args=[community.pk]), {"sub_group": group.pk}, follow=True
    )
    assert "已满" in response.content.decode()
    assert CommunityMembership.objects.filter(sub_group=group).count() == 2


def test_a_member_is_in_at_most_one_sub_group(community, operator):
    shanghai = actions.do_create_sub_group(community, "上海群", actor=operator)
    hangzhou = actions.do_create_sub_group(community, "杭州分会", SubGroupKind.CHAPTER, "杭州", actor=operator)
    target = _member(community)
    actions.do_join_sub_group(target.user, shanghai)
    actions.do_join_sub_group(target.user, hangzhou)
    target.refresh_from_db()
    assert target.sub_group == hangzhou
    assert [g.member_count for g in SubGroup.objects.order_by("id")] == [0, 1]
    with pytest.raises(PermissionDenied):
        actions.do_join_sub_group(UserFactory.create(), shanghai)  # not a member of the community


def test_chapter_needs_a_city(community, operator):
    with pytest.raises(InvalidInput):
        actions.do_create_sub_group(community, "分会", SubGroupKind.CHAPTER, actor=operator)


def test_split_moves_the_newest_half_and_keeps_admins(community, operator, time_machine):
    time_machine.move_to("2026-06-01 09:00:00+08:00", tick=False)
    group = actions.do_create_sub_group(community, "浦东群", capacity=5, actor=operator)
    members = []
    for minute in range(5):
        time_machine.move_to(f"2026-06-01 09:0{minute}:00+08:00", tick=False)
        membership = _member(community)
        actions.do_join_sub_group(membership.user, group)
        members.append(membership)
    actions.do_set_sub_group_admin(community, members[4], True, actor=operator)  # the newest runs the group
    new_group, moved = actions.do_split_sub_group(community, group, actor=operator, ip="10.0.0.3")
    # 5 members → floor(5/2) = 2 move: the two newest who are not admins (joined 09:03 and 09:02)
    assert moved == [members[3].user_id, members[2].user_id]
    group.refresh_from_db()
    assert (group.member_count, new_group.member_count) == (3, 2)
    assert set(CommunityMembership.objects.filter(sub_group=new_group).values_list("user_id", flat=True)) == set(moved)
    assert (new_group.capacity, new_group.kind, new_group.split_from) == (5, group.kind, group)
    log = AuditLog.objects.get(action="sub_group.split")
    assert (log.detail["moved_users"], log.ip) == (moved, "10.0.0.3")


def test_removing_a_member_frees_their_sub_group_seat(community, operator):
    group = actions.do_create_sub_group(community, "群", capacity=2, actor=operator)
    target = _member(community)
    actions.do_join_sub_group(target.user, group)
    actions.do_remove_member(community, target, actor=operator)
    group.refresh_from_db()
    assert group.member_count == 0


def test_community_admin_moderates_from_the_member_page(community):
    admin = _member(community, role=MemberRole.ADMIN)
    plain = _member(community)
    url = reverse("communities:manage_members", args=[community.pk])
    assert login(plain.user).get(url).status_code == 403
    home = login(admin.user).get(reverse("communities:community_home", args=[community.pk])).content.decode()
    assert 'data-testid="manage-members-link"' in home
    assert login(admin.user).get(url).status_code == 200
    response = login(admin.user).post(url, {"user": plain.user_id, "action": "1d"})
    assert response.status_code == 302
    assert selectors.is_muted(plain.user, community)
    login(admin.user).post(url, {"user": plain.user_id, "action": "ban"})
    plain.refresh_from_db()
    assert plain.status == MemberStatus.BANNED
    assert AuditLog.objects.filter(action="member.ban", actor=admin.user, shop=community.shop).exists()


def test_sub_group_admin_mutes_only_their_own_sub_group(community, operator):
    north = actions.do_create_sub_group(community, "北区群", actor=operator)
    south = actions.do_create_sub_group(community, "南区群", actor=operator)
    admin, neighbour, stranger = (_member(community) for _ in range(3))
    actions.do_join_sub_group(admin.user, north)
    actions.do_join_sub_group(neighbour.user, north)
    actions.do_join_sub_group(stranger.user, south)
    actions.do_set_sub_group_admin(community, admin, True, actor=operator)
    neighbour.refresh_from_db()
    stranger.refresh_from_db()
    until = timezone.now() + timedelta(hours=1)
    actions.do_mute(community, neighbour, until, actor=admin.user)
    assert selectors.is_muted(neighbour.user, community)
    with pytest.raises(PermissionDenied):
        actions.do_mute(community, stranger, until, actor=admin.user)
    with pytest.raises(PermissionDenied):
        actions.do_remove_member(community, neighbour, actor=admin.user)  # muting only
