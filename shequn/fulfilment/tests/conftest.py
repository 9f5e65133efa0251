"""A shop with two leaders' pickup points, a succeeded campaign and paid sign-ups at each."""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.conf import settings
from django.utils import timezone

from shequn.fulfilment import actions, selectors
from shequn.fulfilment.models import PickupTicket
from shequn.groupbuy.enums import CampaignStatus, SignUpStatus
from shequn.groupbuy.models import Campaign, CampaignItem, CampaignLeader, SignUp
from shequn.leaders.enums import LeaderStatus
from shequn.leaders.models import Leader
from shequn.orders import actions as order_actions
from shequn.orders.models import RefundRequest
from shequn.testing.factories import CommunityFactory, PickupPointFactory, SkuFactory, UserFactory
from shequn.testing.payments import sandbox, sandbox_key_dir
from shequn.testing.two_shops import console_client, operator, other_console_client, other_operator, other_shop, shop

__all__ = [
    "console_client",
    "operator",
    "other_console_client",
    "other_operator",
    "other_shop",
    "sandbox",
    "sandbox_key_dir",
    "shop",
]


def make_leader(shop: Any, name: str, *, rate_bp: int = 1000, community: Any = None) -> Leader:
    point = PickupPointFactory.create(shop=shop, name=f"{name}自提点", address=f"{name}小区 1 号楼")
    return Leader.objects.create(
        shop=shop,
        user=UserFactory.create(nickname=f"{name}团长"),
        community=community or CommunityFactory.create(shop=shop),
        status=LeaderStatus.ACTIVE,
        pickup_point=point,
        point_name=point.name,
        point_address=point.address,
        contact_phone="13800000000",
        commission_rate_bp=rate_bp,
    )


@dataclass
class World:
    shop: Any
    campaign: Campaign
    leaders: list[Leader]
    skus: dict[str, Any]
    items: dict[str, CampaignItem]
    sign_ups: list[SignUp] = field(default_factory=list)
    done_on: Any = None  # set by tests that complete orders

    def sign_up(self, leader: Leader, nickname: str, wants: dict[str, int], *, paid: bool = True) -> SignUp:
        """A member's paid sign-up at campaign prices, numbered in order (as the live list does)."""
        user = UserFactory.create(nickname=nickname)
        lines = [(self.skus[name].pk, units) for name, units in wants.items()]
        prices = {self.skus[name].pk: self.items[name].price_fen for name in wants}
        order = order_actions.create_order(
            user,
            lines=lines,
            unit_prices=prices,
            fulfilment="pickup",
            pickup_point_id=leader.pickup_point_id,
            payment_method="sandbox",
        )
        if paid:
            order_actions.mark_paid(order)
        self.campaign.last_sequence += 1
        Campaign.objects.filter(pk=self.campaign.pk).update(last_sequence=self.campaign.last_sequence)
        entry = SignUp.objects.create(
            campaign=self.campaign,
            leader=leader,
            user=user,
            order=order,
            status=SignUpStatus.CONFIRMED,
            sequence=self.campaign.last_sequence,
            units=sum(wants.values()),
            paid_at=timezone.now(),
        )
        if _sign_up_line_model() is not None:
            by_sku = {line.sku_id: line for line in order.lines.all()}
            for name, units in wants.items():
                _sign_up_line_model().objects.create(
                    sign_up=entry,
                    item=self.items[name],
                    order_line=by_sku[self.skus[name].pk],
                    units=units,
                    unit_price_fen=self.items[name].price_fen,
                )
        self.sign_ups.append(entry)
        return entry


def _sign_up_line_model() -> Any:
    try:
        return apps.get_model("groupbuy", "SignUpLine")
    except LookupError:
        return None


def make_world(shop: Any, operator: Any) -> World:
    now = timezone.now()
    campaign = Campaign.objects.create(
        shop=shop,
        title="千岛湖有机鱼头接龙",
        created_by=operator,
        status=CampaignStatus.SUCCEEDED,
        starts_at=now - timedelta(days=2),
        deadline=now - timedelta(hours=1),
        pickup_date=timezone.localdate(),
        closed_at=now - timedelta(hours=1),
    )
    skus = {
        "fish": SkuFactory.create(product__shop=shop, product__title="有机鱼头", spec="1 个装", price_fen=5000),
        "shrimp": SkuFactory.create(product__shop=shop, product__title="基围虾", spec="500g", price_fen=4000),
    }
    items = {
        "fish": CampaignItem.objects.create(campaign=campaign, sku=skus["fish"], price_fen=3990, stock_limit=50),
        "shrimp": CampaignItem.objects.create(campaign=campaign, sku=skus["shrimp"], price_fen=2990, stock_limit=50),
    }
    community = CommunityFactory.create(shop=shop)
    leaders = [
        make_leader(shop, "翠苑", community=community),
        make_leader(shop, "文一", rate_bp=800, community=community),
    ]
    for leader in leaders:
        CampaignLeader.objects.create(campaign=campaign, leader=leader)
    return World(shop, campaign, leaders, skus, items)


@pytest.fixture
def world(shop, operator) -> World:
    """Campaign succeeded; 翠苑: 王小明 fish×2, 李四 fish×1 + shrimp×1, 张三 shrimp×2; 文一: 赵六 fish×3."""
    w = make_world(shop, operator)
    first, second = w.leaders
    w.sign_up(first, "王小明", {"fish": 2})
    w.sign_up(second, "赵六", {"fish": 3})
    w.sign_up(first, "李四", {"fish": 1, "shrimp": 1})
    w.sign_up(first, "张三", {"shrimp": 2})
    return w


@pytest.fixture
def completed(world):
    """翠苑 short one fish (李四 refunded ¥39.90, confirmed); everything picked up, then completed."""
    first, second = world.leaders
    actions.receive_goods(
        first, world.campaign.pk, {world.skus["fish"].pk: 2, world.skus["shrimp"].pk: 3}, actor=first.user
    )
    actions.receive_goods(second, world.campaign.pk, {world.skus["fish"].pk: 3}, actor=second.user)
    order_actions.complete_refund(RefundRequest.objects.get())  # the gateway confirmed it
    assert selectors.commission_rows(first) == []  # picked up is not complete yet
    leaders = {leader.pickup_point_id: leader for leader in world.leaders}
    for ticket in PickupTicket.objects.all():
        leader = leaders[ticket.pickup_point_id]
        actions.verify_code(leader, ticket.code, actor=leader.user)
    assert selectors.commission_rows(first) == []
    done_at = timezone.now() + timedelta(days=settings.AFTER_SALES_WINDOW_DAYS, hours=1)
    with time_machine.travel(done_at):
        assert order_actions.auto_complete_orders() == 4
    world.done_on = timezone.localtime(done_at).date()
    return world
