"""shequn.demo.seed_leaders: two approved leaders for the first demo community's two estates
and one pending application, through the real actions; a second run changes nothing."""

import pytest

from shequn.communities.selectors import is_community_member
from shequn.core.models import AuditLog
from shequn.demo.seed import seed
from shequn.demo.seed_leaders import seed_leaders
from shequn.leaders import selectors
from shequn.leaders.enums import LeaderStatus
from shequn.leaders.models import Leader
from shequn.shops.models import PickupPoint, StaffMember

pytestmark = pytest.mark.django_db


def test_seed_leaders_on_the_demo_shop_is_idempotent():
    seed(with_images=False, with_orders=False, with_offers=False)
    staff = StaffMember.objects.select_related("shop", "user").order_by("id")[0]
    shop, staff_user = staff.shop, staff.user
    points_before = PickupPoint.objects.filter(shop=shop).count()

    leaders = seed_leaders(shop, staff_user)

    assert [leader.status for leader in leaders] == [LeaderStatus.ACTIVE, LeaderStatus.ACTIVE, LeaderStatus.APPLIED]
    first_community = shop.communities.order_by("id")[0]
    assert {leader.community_id for leader in leaders} == {first_community.pk}
    assert [leader.sub_group.name if leader.sub_group else None for leader in leaders] == [
        "东区邻里",
        "西区邻里",
        "东区邻里",
    ]
    assert len({leader.user_id for leader in leaders}) == 3
    assert all(is_community_member(leader.user, first_community) for leader in leaders)
    assert [leader.commission_rate_bp for leader in leaders[:2]] == [1000, 800]
    assert list(selectors.active_leaders(shop)) == sorted(leaders[:2], key=lambda leader: leader.point_name)
    assert PickupPoint.objects.filter(shop=shop).count() == points_before + 2
    assert (
        PickupPoint.objects.filter(pk=leaders[0].pickup_point_id or 0).values_list("name", flat=True)[0]
        == "东区 8 幢便利店"
    )
    assert leaders[2].pickup_point_id is None
    assert list(selectors.shop_leaders(shop, LeaderStatus.APPLIED)) == [leaders[2]]
    assert AuditLog.objects.filter(shop=shop, action="leaders.approve").count() == 2

    again = seed_leaders(shop, staff_user)
    assert [leader.pk for leader in again] == [leader.pk for leader in leaders]
    assert Leader.objects.filter(shop=shop).count() == 3
    assert PickupPoint.objects.filter(shop=shop).count() == points_before + 2
    assert AuditLog.objects.filter(shop=shop, action="leaders.approve").count() == 2
