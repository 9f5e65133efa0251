from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from shequn.communities.models import CommunityMembership, SubGroup
from shequn.gate.local import LocalGate
from shequn.groupbuy import actions
from shequn.groupbuy.actions import CampaignInput, ItemInput, TierInput
from shequn.leaders.enums import LeaderStatus
from shequn.leaders.models import Leader
from shequn.testing.factories import (
    CommunityFactory,
    MembershipFactory,
    PickupPointFactory,
    SkuFactory,
    UserFactory,
)
from shequn.testing.payments import sandbox, sandbox_key_dir
from shequn.testing.two_shops import (
    console_client,
    login,
    operator,
    other_console_client,
    other_operator,
    other_shop,
    shop,
)

__all__ = [
    "CampaignInput",
    "ItemInput",
    "TierInput",
    "console_client",
    "login",
    "operator",
    "other_console_client",
    "other_operator",
    "other_shop",
    "sandbox",
    "sandbox_key_dir",
    "shop",
]


@pytest.fixture
def gate(_fresh_gate: LocalGate) -> LocalGate:
    """The test's own empty in-process gate (the one get_gate() returns)."""
    return _fresh_gate


def make_leader(shop: Any, community: Any, sub_group: Any, name: str) -> Leader:
    user = UserFactory.create(nickname=f"{name}团长")
    MembershipFactory.create(community=community, user=user)
    point = PickupPointFactory.create(shop=shop, name=f"{name}自提点", address=f"{name}小区 1 号楼")
    return Leader.objects.create(
        shop=shop,
        user=user,
        community=community,
        sub_group=sub_group,
        status=LeaderStatus.ACTIVE,
        pickup_point=point,
        point_name=point.name,
        point_address=point.address,
        contact_phone="13912345678",
        commission_rate_bp=1000,
    )


def join(community: Any, nickname: str, sub_group: Any = None) -> Any:
    user = UserFactory.create(nickname=nickname)
    MembershipFactory.create(community=community, user=user)
    if sub_group is not None:
        CommunityMembership.objects.filter(community=community, user=user).update(sub_group=sub_group)
    return user


@dataclass
class World:
    shop: Any
    operator: Any
    community: Any
    east: Any  # sub-group
    west: Any
    leader_east: Leader
    leader_west: Leader
    salmon: Any  # SKU
    shrimp: Any
    members: dict[str, Any] = field(default_factory=dict)

    def campaign_input(self, **overrides: Any) -> CampaignInput:
        now = timezone.now()
        values: dict[str, Any] = {
            "title": "三文鱼周末接龙",
            "starts_at": now - timedelta(minutes=1),
            "deadline": now + timedelta(hours=2),
            "pickup_date": (timezone.localtime(now) + timedelta(days=1)).date(),
            "items": [ItemInput(sku_id=self.salmon.pk, price_fen=5900, stock_limit=50, per_person_cap=5)],
            "min_total_units": 3,
        }
        values.update(overrides)
        return CampaignInput(**values)

    def open_campaign(self, **overrides: Any) -> Any:
        campaign = actions.do_create_campaign(
            self.shop, self.operator, self.campaign_input(**overrides), [self.leader_east.pk, self.leader_west.pk]
        )
        return actions.do_publish_campaign(self.shop, campaign, self.operator)


@pytest.fixture
def world(shop, operator) -> World:
    community = CommunityFactory.create(shop=shop, name="滨江生鲜群")
    east = SubGroup.objects.create(community=community, name="东苑", kind="neighbourhood")
    west = SubGroup.objects.create(community=community, name="西苑", kind="neighbourhood")
    world = World(
        shop=shop,
        operator=operator,
        community=community,
        east=east,
        west=west,
        leader_east=make_leader(shop, community, east, "东苑"),
        leader_west=make_leader(shop, community, west, "西苑"),
        salmon=SkuFactory.create(product__shop=shop, product__title="三文鱼", spec="500g", price_fen=6900, stock=500),
        shrimp=SkuFactory.create(product__shop=shop, product__title="基围虾", spec="1斤", price_fen=4500, stock=500),
    )
    world.members = {
        "王小明": join(community, "王小明", east),
        "李阿姨": join(community, "李阿姨", west),
        "张三": join(community, "张三", east),
    }
    return world
