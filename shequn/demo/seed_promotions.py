"""Demo promotions and a leader settlement, made through the apps' own actions:

- a timed lottery (定时开奖) for the first community, published with its prizes and entered by a few
  of its members (it opens a moment after publishing: rules are published before the start);
- a funded 拼手气 red packet for the first community, grabbed by a few members through the gate and
  written to their wallets by the consumer;
- a claimable 满减 coupon, claimed by a few members of the first community and shown as a card under
  its first post;
- one group-buy leader's settlement (draft) for yesterday: the first leader's picked-up campaign
  orders are completed by the operator and their history moved back a day, as the past demo orders'
  is, since only days before today can be settled.

Each part is skipped when the shop already has it, so a second seed changes nothing.
"""

import random
import time
from datetime import timedelta
from typing import Any

from django.db.models import F
from django.utils import timezone

from shequn.accounts.models import User
from shequn.catalog.kinds import ProductKind
from shequn.catalog.models import Sku
from shequn.communities.models import Community, CommunityMembership, Post
from shequn.communities.selectors import current_q
from shequn.coupons import actions as coupon_actions
from shequn.coupons.actions import TemplateInput
from shequn.coupons.enums import Validity
from shequn.coupons.models import CouponTemplate
from shequn.fulfilment import actions as fulfilment_actions
from shequn.fulfilment.enums import TicketStatus
from shequn.fulfilment.models import PickupTicket, Settlement
from shequn.leaders.enums import LeaderStatus
from shequn.leaders.models import Leader
from shequn.lotteries import actions as lottery_actions
from shequn.lotteries.actions import LotteryInput, PrizeInput
from shequn.lotteries.enums import EntryCondition, LotteryMode, PrizeKind
from shequn.lotteries.models import Lottery
from shequn.orders import actions as order_actions
from shequn.orders.enums import OrderStatus
from shequn.orders.models import Order, OrderEvent
from shequn.payments.models import Payment
from shequn.redpackets import actions as redpacket_actions
from shequn.redpackets.actions import PacketInput
from shequn.redpackets.enums import Audience, Split
from shequn.redpackets.models import RedPacket
from shequn.shops.models import Shop

LOTTERY_TITLE = "千岛湖鲜鱼周末抽奖"
LOTTERY_ENTRIES = 6
RED_PACKET_TITLE = "新鱼上市，邻居们抢红包"
RED_PACKET_GRABS = 5
COUPON_NAME = "鲜鱼满60减8"
COUPON_CLAIMS = 3


def _first_community(shop: Shop) -> Community | None:
    return Community.objects.filter(shop=shop, is_active=True).order_by("id").first()


def _members(community: Community, count: int) -> list[User]:
    memberships = CommunityMembership.objects.filter(current_q(), community=community).select_related("user")
    return [membership.user for membership in memberships.order_by("id")[:count]]


def seed_lottery(shop: Shop, operator: User) -> Lottery | None:
    """A published timed draw: entries for three days, drawn when they close, two kinds of prize."""
    if Lottery.objects.filter(shop=shop, title=LOTTERY_TITLE).exists():
        return None
    community = _first_community(shop)
    prize_skus = list(
        Sku.objects.filter(shop=shop, is_active=True, product__on_shelf=True, product__kind=ProductKind.GOODS)
        .exclude(price_fen=0)
        .order_by("-price_fen", "pk")[:2]
    )
    if community is None or len(prize_skus) < 2:
        return None
    # The rules are published before the start; the draw opens a moment later so members can enter.
    starts_at = timezone.now() + timedelta(milliseconds=300)
    ends_at = timezone.localtime(starts_at).replace(hour=20, minute=0, second=0, microsecond=0) + timedelta(days=3)
    first, second = prize_skus
    lottery = lottery_actions.create_lottery(
        shop,
        operator,
        LotteryInput(
            title=LOTTERY_TITLE,
            rules="本社群成员每人可参与一次，按参与顺序编号；开奖时以公布的种子随机抽出中奖编号，结果可验证。",
            mode=LotteryMode.DRAW,
            entry_condition=EntryCondition.COMMUNITY,
            community_id=community.pk,
            starts_at=starts_at,
            ends_at=ends_at,
            draw_at=ends_at,
            claim_deadline=ends_at + timedelta(days=7),
            unclaimed_rule="逾期未领取视为放弃，奖品不再补发。",
            prizes=[
                PrizeInput(
                    name=f"一等奖 {first.product.title}",
                    kind=PrizeKind.GOODS,
                    value_fen=first.price_fen,
                    quantity=1,
                    sku_id=first.pk,
                ),
                PrizeInput(
                    name=f"二等奖 {second.product.title}",
                    kind=PrizeKind.GOODS,
                    value_fen=second.price_fen,
                    quantity=3,
                    sku_id=second.pk,
                ),
            ],
        ),
    )
    lottery_actions.publish_lottery(shop, operator, lottery.pk)
    time.sleep(max(0.0, (starts_at - timezone.now()).total_seconds()))
    for member in _members(community, LOTTERY_ENTRIES):
        lottery_actions.enter(member, lottery.pk)
    lottery.refresh_from_db()
    return lottery


def seed_red_packet(shop: Shop, operator: User, rng: random.Random) -> RedPacket | None:
    """¥88 in 20 拼手气 parts for the first community, open for two days, grabbed by a few members."""
    if RedPacket.objects.filter(shop=shop, title=RED_PACKET_TITLE).exists():
        return None
    community = _first_community(shop)
    if community is None:
        return None
    now = timezone.now()
    packet = redpacket_actions.fund_packet(
        shop,
        operator,
        PacketInput(
            title=RED_PACKET_TITLE,
            total_fen=8800,
            count=20,
            split=Split.RANDOM,
            audience=Audience.COMMUNITY,
            community_id=community.pk,
            starts_at=now,
            expires_at=now + timedelta(days=2),
        ),
        rng=rng,
    )
    for member in _members(community, RED_PACKET_GRABS):
        redpacket_actions.grab(member, packet.pk)
    redpacket_actions.materialise_grabs(idle_ms=0)
    packet.refresh_from_db()
    return packet


def seed_coupon(shop: Shop, operator: User) -> CouponTemplate | None:
    """满 ¥60 减 ¥8 on the whole shop, 14 days from claiming, 500 of them: claimed by a few members
    of the first community and put as a card under its first post."""
    if CouponTemplate.objects.filter(shop=shop, name=COUPON_NAME).exists():
        return None
    community = _first_community(shop)
    if community is None:
        return None
    template = coupon_actions.create_template(
        shop,
        operator,
        TemplateInput(
            name=COUPON_NAME,
            kind="threshold",
            threshold_fen=6000,
            amount_fen=800,
            total_quantity=500,
            validity=Validity.DAYS,
            valid_days=14,
        ),
    )
    post = Post.objects.filter(community=community).order_by("id").first()
    if post is not None:
        coupon_actions.put_on_post(shop, operator, template.pk, post.pk)
    for member in _members(community, COUPON_CLAIMS):
        coupon_actions.claim(member, template.pk, post_id=post.pk if post is not None else None)
    template.refresh_from_db()
    return template


def seed_settlement(shop: Shop, operator: User) -> Settlement | None:
    """The first leader's statement for yesterday: their picked-up campaign orders, completed."""
    if Settlement.objects.filter(shop=shop).exists():
        return None
    leader = Leader.objects.filter(shop=shop, status=LeaderStatus.ACTIVE).order_by("id").first()
    if leader is None:
        return None
    order_ids = list(
        PickupTicket.objects.filter(
            shop=shop, status=TicketStatus.PICKED_UP, sign_up__leader=leader, order__status=OrderStatus.PICKED_UP
        ).values_list("order_id", flat=True)
    )
    if not order_ids:
        return None
    for order_id in order_ids:
        order_actions.complete_order(shop, order_id, operator)
    _move_back_a_day(order_ids)
    yesterday = timezone.localdate() - timedelta(days=1)
    [settlement] = fulfilment_actions.create_settlements(shop, operator, start=yesterday, end=yesterday)
    return settlement


def _move_back_a_day(order_ids: list[int]) -> None:
    """The orders' history (and their pickup), a day earlier, as the past demo orders are spread back."""
    shift = timedelta(days=1)
    stamps: dict[str, Any] = {
        name: F(name) - shift for name in ("created_at", "expires_at", "paid_at", "delivered_at", "completed_at")
    }
    for name in stamps:
        Order.objects.filter(pk__in=order_ids, **{f"{name}__isnull": False}).update(**{name: stamps[name]})
    OrderEvent.objects.filter(order_id__in=order_ids).update(created_at=F("created_at") - shift)
    Payment.objects.filter(order_id__in=order_ids).update(created_at=F("created_at") - shift)
    Payment.objects.filter(order_id__in=order_ids, succeeded_at__isnull=False).update(
        succeeded_at=F("succeeded_at") - shift
    )
    PickupTicket.objects.filter(order_id__in=order_ids).update(
        ready_at=F("ready_at") - shift, picked_up_at=F("picked_up_at") - shift
    )
