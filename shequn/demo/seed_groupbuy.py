"""Demo group buying: one succeeded campaign (closed yesterday evening, paid sign-ups at both
leaders' points, goods to collect today) and one open campaign (deadline tomorrow 20:00
Asia/Shanghai, a tier price, paid sign-ups already on the live list).

Sign-ups go through the real flow: ``groupbuy.actions.sign_up`` (one pickup order at the
campaign price) and a sandbox payment. Idempotent: a campaign already seeded (found by its
title in the shop) is left alone. Returns the two campaigns (succeeded, open).
"""

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from shequn.catalog.kinds import ProductKind
from shequn.catalog.models import Sku
from shequn.communities.models import CommunityMembership
from shequn.communities.selectors import current_q
from shequn.groupbuy import actions
from shequn.groupbuy.models import Campaign
from shequn.leaders.enums import LeaderStatus
from shequn.shops.models import Shop

from .seed_orders import _pay_online

SHANGHAI = ZoneInfo("Asia/Shanghai")
SUCCEEDED_TITLE = "周五鲜鱼接龙（已成团）"
OPEN_TITLE = "千岛湖有机鱼头接龙"
PER_LEADER = 3


def _skus(shop: Shop) -> list[Sku]:
    skus = list(
        Sku.objects.filter(shop=shop, is_active=True, product__kind=ProductKind.GOODS, stock__gte=50)
        .select_related("product")
        .order_by("product_id", "id")
    )
    seen: set[int] = set()
    picked = []
    for sku in skus:
        if sku.product_id not in seen:
            seen.add(sku.product_id)
            picked.append(sku)
    return picked[:2]


def _neighbours(leader: Any, count: int, skip: set[int]) -> list[Any]:
    rows = (
        CommunityMembership.objects.filter(current_q(), community_id=leader.community_id)
        .exclude(user_id__in=skip | {leader.user_id})
        .select_related("user")
        .order_by("sub_group_id" if leader.sub_group_id is None else "-sub_group_id", "id")
    )
    if leader.sub_group_id is not None:
        own = [row.user for row in rows.filter(sub_group_id=leader.sub_group_id)[:count]]
        if len(own) == count:
            return own
    return [row.user for row in rows[:count]]


def _sign_ups(campaign: Campaign, leaders: list[Any], units: list[int]) -> int:
    items = list(campaign.items.all())
    used: set[int] = set()
    made = 0
    for leader in leaders:
        for index, user in enumerate(_neighbours(leader, PER_LEADER, used)):
            used.add(user.pk)
            item = items[index % len(items)]
            entry = actions.sign_up(user, campaign.pk, {item.pk: units[index % len(units)]}, leader_id=leader.pk)
            _pay_online(entry.order, user)
            made += 1
    return made


def _local(day: Any, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=SHANGHAI)


def seed_groupbuy(shop: Shop, staff_user: Any, leaders: list[Any]) -> tuple[Campaign, Campaign] | None:
    active = [x for x in leaders if x.status == LeaderStatus.ACTIVE and x.pickup_point_id]
    skus = _skus(shop)
    if not active or not skus:
        return None
    today = timezone.now().astimezone(SHANGHAI).date()
    leader_ids = [x.pk for x in active]

    done = Campaign.objects.filter(shop=shop, title=SUCCEEDED_TITLE).first()
    if done is None:
        now = timezone.now()
        data = actions.CampaignInput(
            title=SUCCEEDED_TITLE,
            description="清晨捕捞，冷链直达团长自提点。",
            starts_at=now - timedelta(minutes=5),
            deadline=now + timedelta(hours=1),
            pickup_date=today + timedelta(days=1),
            min_total_units=3,
            items=[
                actions.ItemInput(sku_id=sku.pk, price_fen=max(1, sku.price_fen * 85 // 100), stock_limit=40)
                for sku in skus
            ],
        )
        done = actions.do_create_campaign(shop, staff_user, data, leader_ids)
        actions.do_publish_campaign(shop, done, staff_user)
        _sign_ups(done, active, [2, 1, 1])
        actions.close_campaign(done.pk, now=done.deadline)
        # As if it had run yesterday: the deadline was yesterday 20:00, goods arrive today.
        Campaign.objects.filter(pk=done.pk).update(
            starts_at=_local(today - timedelta(days=2), 9),
            deadline=_local(today - timedelta(days=1), 20),
            closed_at=_local(today - timedelta(days=1), 20),
            pickup_date=today,
        )
        done.refresh_from_db()

    live = Campaign.objects.filter(shop=shop, title=OPEN_TITLE).first()
    if live is None:
        first = skus[0]
        data = actions.CampaignInput(
            title=OPEN_TITLE,
            description="满 20 份每份再降 ¥5，达到后已付款的差价自动退回。",
            starts_at=timezone.now() - timedelta(minutes=5),
            deadline=_local(today + timedelta(days=1), 20),
            pickup_date=today + timedelta(days=2),
            min_total_units=10,
            items=[
                actions.ItemInput(
                    sku_id=first.pk,
                    price_fen=max(600, first.price_fen * 9 // 10),
                    stock_limit=100,
                    per_person_cap=5,
                    tiers=[actions.TierInput(20, max(100, first.price_fen * 9 // 10 - 500))],
                )
            ],
        )
        live = actions.do_create_campaign(shop, staff_user, data, leader_ids)
        actions.do_publish_campaign(shop, live, staff_user)
        _sign_ups(live, active, [1, 2, 1])
        live.refresh_from_db()
    return done, live
