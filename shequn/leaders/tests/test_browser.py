"""In Chromium: a member applies to lead for their estate from the leader centre (a missing
phone is pointed out first), the operator approves in the console at 8.5%, and the member's
leader centre shows the pickup point and commission; a neighbour sees the phone masked."""

import pytest

from shequn.communities.models import SubGroup
from shequn.leaders.enums import LeaderStatus
from shequn.leaders.models import Leader
from shequn.shops.enums import StaffRole
from shequn.shops.models import PickupPoint
from shequn.testing.factories import CommunityFactory, MembershipFactory, ShopFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


DESKTOP = {"viewport": {"width": 1280, "height": 800}, "is_mobile": False, "has_touch": False}


def test_member_applies_operator_approves_leader_centre_shows_it(signed_in_page):
    shop = ShopFactory.create(slug="binjiang", name="千岛湖鲜鱼")
    community = CommunityFactory.create(shop=shop, name="滨江邻里群")
    SubGroup.objects.create(community=community, name="东区邻里", kind="neighbourhood")
    member = UserFactory.create(nickname="王小明")
    neighbour = UserFactory.create(nickname="李阿姨")
    for user in (member, neighbour):
        MembershipFactory.create(community=community, user=user)
    operator = StaffFactory.create(shop=shop, role=StaffRole.OPERATOR).user

    page = signed_in_page(member)
    page.goto("/leader/")
    page.get_by_test_id("no-leader-role").wait_for()
    page.get_by_test_id("apply-link").click()
    page.get_by_label("负责的小区 / 分群").select_option(label="东区邻里")
    page.get_by_label("自提点名称").fill("东区 8 幢便利店")
    page.get_by_label("自提点地址").fill("滨江区江南大道 1088 号东区 8 幢底商")
    page.get_by_label("营业时间").fill("每天 8:00-21:00")
    page.get_by_test_id("apply-submit").click()
    assert page.get_by_role("alert").first.inner_text() == "请填写联系电话"
    assert page.get_by_label("自提点名称").input_value() == "东区 8 幢便利店"  # kept
    page.get_by_label("联系电话").fill("13912345678")
    page.get_by_test_id("apply-submit").click()
    page.get_by_test_id("leader-status").wait_for()
    assert page.get_by_test_id("leader-status").inner_text() == "待审核"

    console = signed_in_page(operator, **DESKTOP)
    console.goto("/console/leaders/")
    assert console.get_by_test_id("pending-count").inner_text() == "1"
    console.get_by_test_id("leader-open").click()
    console.get_by_test_id("approve-commission").fill("8.5")
    console.get_by_test_id("approve").click()
    assert console.get_by_test_id("leader-status").inner_text() == "在职"
    assert console.get_by_test_id("commission-rate").inner_text() == "8.5%"

    page.reload()
    assert page.get_by_test_id("leader-status").inner_text() == "在职"
    assert page.get_by_test_id("commission-rate").inner_text() == "8.5%"
    assert page.get_by_test_id("point-name").inner_text() == "东区 8 幢便利店"
    leader = Leader.objects.get(user=member)
    assert leader.status == LeaderStatus.ACTIVE
    assert PickupPoint.objects.get(leader=leader).address == "滨江区江南大道 1088 号东区 8 幢底商"

    seen = signed_in_page(neighbour)
    seen.goto(f"/leader/p/{leader.pk}/")
    assert seen.get_by_test_id("point-phone").inner_text() == "139****5678"
