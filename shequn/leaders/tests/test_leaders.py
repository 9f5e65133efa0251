"""Applying, approving, rejecting, suspending and editing leaders, and the selectors other
apps use (leader_of, require_leader, access_leader, active_leaders, leader_for_pickup_point)."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser

from shequn.core.errors import NotAuthenticated
from shequn.core.models import AuditLog
from shequn.leaders import actions, selectors
from shequn.leaders.enums import LeaderStatus
from shequn.leaders.errors import (
    ApplicationExists,
    InvalidApplication,
    InvalidCommissionRate,
    LeaderNotFound,
    LeaderTransitionRefused,
    NotALeader,
    NotAShopMember,
)
from shequn.leaders.models import Leader
from shequn.notifications.models import Notification
from shequn.shops.models import PickupPoint
from shequn.testing.factories import CommunityFactory, MembershipFactory, PickupPointFactory, UserFactory

from .conftest import POINT

pytestmark = pytest.mark.django_db


def apply(user, shop, community, estate, **overrides):
    fields = {**POINT, **overrides}
    return actions.do_apply(
        user, shop, community_id=community.pk, sub_group_id=estate.pk, note="我在小区住了十年", **fields
    )


def test_apply_then_approve_creates_the_pickup_point_with_the_proposed_data(shop, operator, community, estate, member):
    leader = apply(member, shop, community, estate)
    assert (leader.status, leader.sub_group_id, leader.pickup_point_id) == (LeaderStatus.APPLIED, estate.pk, None)
    assert leader.contact_phone == "13912345678"  # normalised
    assert selectors.leader_of(member, shop) is None  # not yet approved

    actions.do_approve(shop, leader, commission_rate_bp=850, actor=operator, ip="10.0.0.1")

    leader.refresh_from_db()
    point = PickupPoint.objects.get(pk=leader.pickup_point_id)
    assert (point.shop_id, point.name, point.address, point.opening_hours, point.contact_phone, point.is_active) == (
        shop.pk,
        "阳光花园 3 号楼便利店",
        "上海市浦东新区张江路 88 弄 3 号楼 101",
        "每天 9:00-21:00",
        "13912345678",
        True,
    )
    assert (leader.status, leader.commission_rate_bp, leader.decided_by_id) == (LeaderStatus.ACTIVE, 850, operator.pk)
    assert (leader.latitude, leader.longitude, leader.capacity_per_day) == (
        Decimal("31.204512"),
        Decimal("121.590123"),
        80,
    )
    assert selectors.leader_of(member, shop) == leader
    assert selectors.require_leader(member, shop) == leader
    assert selectors.leader_for_pickup_point(point) == leader
    assert list(selectors.active_leaders(shop)) == [leader]
    log = AuditLog.objects.get(action="leaders.approve")
    assert (log.actor_id, log.shop_id, log.object_id, log.ip) == (operator.pk, shop.pk, str(leader.pk), "10.0.0.1")
    assert log.detail == {"pickup_point_id": point.pk, "commission_rate_bp": 850}
    note = Notification.objects.get(user=member, kind="leaders.approved")
    assert note.title == "你的团长申请已通过"
    assert "8.5%" in note.body


def test_reject_notifies_with_the_reason_and_the_member_may_apply_again(shop, operator, community, estate, member):
    leader = apply(member, shop, community, estate)
    with pytest.raises(InvalidApplication) as refused:
        actions.do_reject(shop, leader, reason="  ", actor=operator)
    assert refused.value.message == "请填写拒绝原因"

    actions.do_reject(shop, leader, reason="自提点离小区太远", actor=operator)
    leader.refresh_from_db()
    assert (leader.status, leader.decision_note) == (LeaderStatus.REJECTED, "自提点离小区太远")
    note = Notification.objects.get(user=member, kind="leaders.rejected")
    assert note.body == "原因：自提点离小区太远。你可以修改后重新申请。"
    assert AuditLog.objects.get(action="leaders.reject").detail == {"reason": "自提点离小区太远"}
    assert PickupPoint.objects.count() == 0

    again = apply(member, shop, community, estate, point_name="阳光花园门卫室")
    assert again.pk == leader.pk  # one row per member per shop
    assert (again.status, again.point_name, again.decision_note, again.decided_by_id) == (
        LeaderStatus.APPLIED,
        "阳光花园门卫室",
        "",
        None,
    )
    assert Leader.objects.filter(shop=shop, user=member).count() == 1


def test_a_second_application_is_refused(shop, operator, community, estate, other_estate, member):
    leader = apply(member, shop, community, estate)
    with pytest.raises(ApplicationExists) as refused:
        apply(member, shop, community, other_estate)
    assert (refused.value.status, refused.value.message) == (409, "你已提交过团长申请，请等待店铺审核")

    actions.do_approve(shop, leader, commission_rate_bp=1000, actor=operator)
    with pytest.raises(ApplicationExists) as refused:
        apply(member, shop, community, other_estate)
    assert refused.value.message == "你已经是本店的团长，无需重复申请"
    assert Leader.objects.count() == 1


def test_non_members_and_former_members_cannot_apply(shop, other_shop, community, estate, outsider, member):
    with pytest.raises(NotAShopMember) as refused:
        apply(outsider, shop, community, estate)
    assert (refused.value.status, refused.value.message) == (404, "仅本店社群的成员可以申请成为团长，请先加入社群")

    # a member of another shop's community is not a member here
    foreign = CommunityFactory.create(shop=other_shop)
    MembershipFactory.create(community=foreign, user=outsider)
    with pytest.raises(NotAShopMember):
        apply(outsider, shop, community, estate)

    member.community_memberships.update(status="removed")
    with pytest.raises(NotAShopMember):
        apply(member, shop, community, estate)
    with pytest.raises(NotAuthenticated):
        actions.check_application(type("Anon", (), {"is_authenticated": False})(), shop, community.pk, None)
    assert Leader.objects.count() == 0


def test_application_validation_reports_every_field(shop, community, estate, member):
    with pytest.raises(InvalidApplication) as refused:
        actions.do_apply(member, shop, community_id=community.pk, sub_group_id=None, **POINT)
    assert refused.value.details["fields"] == {"sub_group": "请选择你要负责的小区 / 分群"}
    with pytest.raises(InvalidApplication) as refused:
        actions.do_apply(
            member,
            shop,
            community_id=community.pk,
            sub_group_id=estate.pk,
            point_name="",
            point_address=" ",
            contact_phone="12345",
            latitude="91",
            longitude="",
            capacity_per_day="0",
        )
    assert refused.value.message == "请填写自提点名称"
    assert refused.value.details["fields"] == {
        "point_name": "请填写自提点名称",
        "point_address": "请填写自提点地址",
        "contact_phone": "请输入正确的 11 位手机号",
        "latitude": "纬度需在 -90 到 90 之间",
        "capacity_per_day": "每日接单上限需在 1 到 10000 之间（不限请留空）",
    }
    with pytest.raises(InvalidApplication) as refused:
        apply(member, shop, community, estate, latitude="31.2", longitude="")
    assert refused.value.details["fields"] == {"longitude": "经纬度需同时填写，或都留空"}
    with pytest.raises(InvalidApplication) as refused:
        apply(member, shop, community, estate, latitude="abc", longitude="121.5")
    assert refused.value.details["fields"] == {"latitude": "纬度格式不正确"}
    other_community = CommunityFactory.create(shop=shop)
    with pytest.raises(InvalidApplication) as refused:
        apply(member, shop, other_community, estate)  # not a member of that one
    assert refused.value.details["fields"] == {"community": "请选择你所在的社群"}
    assert Leader.objects.count() == 0


def test_commission_above_half_is_refused(shop, operator, community, estate, member):
    leader = apply(member, shop, community, estate)
    for bad in (5001, -1, "abc"):
        with pytest.raises(InvalidCommissionRate) as refused:
            actions.do_approve(shop, leader, commission_rate_bp=bad, actor=operator)
        assert refused.value.message == "佣金比例需在 0% 到 50% 之间"
    leader.refresh_from_db()
    assert (leader.status, PickupPoint.objects.count()) == (LeaderStatus.APPLIED, 0)

    actions.do_approve(shop, leader, commission_rate_bp=5000, actor=operator)
    with pytest.raises(InvalidCommissionRate):
        actions.do_update(shop, leader, {"commission_rate_bp": 5001}, actor=operator)
    assert actions.commission_percent_to_bp("8.25") == 825
    with pytest.raises(InvalidCommissionRate) as refused:
        actions.commission_percent_to_bp("50.5")
    assert refused.value.message == "佣金比例需在 0% 到 50% 之间"
    with pytest.raises(InvalidCommissionRate) as refused:
        actions.commission_percent_to_bp("8.125")
    assert refused.value.message == "佣金比例最多保留两位小数"
    leader.refresh_from_db()
    assert leader.commission_rate_bp == 5000


def test_suspended_leader_is_not_returned_by_leader_of_and_resumes(shop, operator, community, estate, member):
    leader = apply(member, shop, community, estate)
    actions.do_approve(shop, leader, commission_rate_bp=1000, actor=operator)
    with pytest.raises(InvalidApplication):
        actions.do_suspend(shop, leader, reason="", actor=operator)

    actions.do_suspend(shop, leader, reason="多次未按时到货确认", actor=operator)
    assert selectors.leader_of(member, shop) is None
    assert list(selectors.active_leaders(shop)) == []
    with pytest.raises(NotALeader) as refused:
        selectors.require_leader(member, shop)
    assert (refused.value.status, refused.value.message) == (403, "你的团长资格已暂停，请联系店铺运营")
    # the point still belongs to them: open orders are handed out there
    assert selectors.leader_for_pickup_point(leader.pickup_point_id) == leader
    assert PickupPoint.objects.get(pk=leader.pickup_point_id).is_active is True
    assert Notification.objects.get(user=member, kind="leaders.suspended").body.startswith("原因：多次未按时到货确认")
    with pytest.raises(LeaderTransitionRefused):
        actions.do_suspend(shop, leader, reason="再来一次", actor=operator)

    actions.do_resume(shop, leader, actor=operator)
    assert selectors.leader_of(member, shop) == leader
    assert leader.decision_note == ""
    assert [log.action for log in AuditLog.objects.order_by("id")] == [
        "leaders.approve",
        "leaders.suspend",
        "leaders.resume",
    ]
    with pytest.raises(LeaderTransitionRefused) as wrong_step:
        actions.do_approve(shop, leader, commission_rate_bp=1000, actor=operator)
    assert wrong_step.value.message == "只能审核待审核的申请"


def test_update_keeps_the_pickup_point_in_step(shop, operator, community, estate, member):
    leader = apply(member, shop, community, estate)
    actions.do_approve(shop, leader, commission_rate_bp=1000, actor=operator)
    actions.do_update(
        shop,
        leader,
        {
            "point_name": "阳光花园北门驿站",
            "opening_hours": "8:00-20:00",
            "contact_phone": "13800001111",
            "capacity_per_day": None,
            "commission_rate_bp": 1200,
        },
        actor=operator,
    )
    leader.refresh_from_db()
    point = PickupPoint.objects.get(pk=leader.pickup_point_id)
    assert (point.name, point.opening_hours, point.contact_phone, point.address) == (
        "阳光花园北门驿站",
        "8:00-20:00",
        "13800001111",
        "上海市浦东新区张江路 88 弄 3 号楼 101",
    )
    assert (leader.capacity_per_day, leader.commission_rate_bp) == (None, 1200)
    log = AuditLog.objects.get(action="leaders.update")
    assert log.detail == {
        "changed": ["capacity_per_day", "commission_rate_bp", "contact_phone", "opening_hours", "point_name"],
        "commission_rate_bp": 1200,
    }
    assert Notification.objects.get(user=member, kind="leaders.commission_changed").body.startswith(
        "新的佣金比例为 12%"
    )

    with pytest.raises(InvalidApplication) as refused:
        actions.do_update(shop, leader, {"point_address": ""}, actor=operator)
    assert refused.value.details["fields"] == {"point_address": "请填写自提点地址"}
    # nothing changed → nothing audited
    actions.do_update(shop, leader, {"point_name": "阳光花园北门驿站"}, actor=operator)
    assert AuditLog.objects.filter(action="leaders.update").count() == 1


def test_other_shops_cannot_reach_a_leader(shop, other_shop, operator, other_operator, community, estate, member):
    leader = apply(member, shop, community, estate)
    with pytest.raises(LeaderNotFound):
        selectors.access_leader(other_shop, leader.pk)
    for step in (
        lambda: actions.do_approve(other_shop, leader, commission_rate_bp=1000, actor=other_operator),
        lambda: actions.do_reject(other_shop, leader, reason="不行", actor=other_operator),
        lambda: actions.do_update(other_shop, leader, {"point_name": "别家"}, actor=other_operator),
    ):
        with pytest.raises(LeaderNotFound):
            step()
    leader.refresh_from_db()
    assert (leader.status, leader.point_name) == (LeaderStatus.APPLIED, POINT["point_name"])
    assert selectors.leader_of(member, other_shop) is None
    with pytest.raises(NotALeader) as refused:
        selectors.require_leader(member, other_shop)
    assert refused.value.message == "你还不是本店的团长"
    with pytest.raises(NotAuthenticated):
        selectors.require_leader(AnonymousUser(), shop)
    assert selectors.leader_of(AnonymousUser(), shop) is None
    assert selectors.leader_for_pickup_point(PickupPointFactory.create(shop=shop)) is None


def test_members_see_the_contact_phone_masked(shop, operator, community, estate, member, neighbour, outsider):
    leader = apply(member, shop, community, estate)
    with pytest.raises(LeaderNotFound):  # not yet approved
        selectors.member_leader(neighbour, leader.pk)
    actions.do_approve(shop, leader, commission_rate_bp=1000, actor=operator)
    seen = selectors.member_leader(neighbour, leader.pk)
    assert (seen.masked_contact_phone, seen.masked_leader_name) == ("139****5678", "王**")
    assert selectors.masked_contact(seen) == "139****5678"
    with pytest.raises(LeaderNotFound):
        selectors.member_leader(outsider, leader.pk)
    with pytest.raises(LeaderNotFound):
        selectors.member_leader(UserFactory.create(), 999999)
