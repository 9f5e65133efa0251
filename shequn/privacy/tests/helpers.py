"""Members with data in many tables, for the export and deletion tests."""

from datetime import timedelta
from typing import Any

import time_machine
from django.utils import timezone

from shequn.board.models import Thread
from shequn.coupons import actions as coupon_actions
from shequn.gate.engine import use_gate
from shequn.gate.local import LocalGate
from shequn.lotteries import actions as lottery_actions
from shequn.lotteries.actions import LotteryInput, PrizeInput
from shequn.orders.actions import mark_delivered, ship_order
from shequn.orders.enums import PaymentMethod
from shequn.orders.models import Order
from shequn.payments.actions import confirm_cod_payment
from shequn.redpackets import actions as redpacket_actions
from shequn.redpackets.actions import PacketInput
from shequn.testing.coupons import make_coupon_template
from shequn.testing.factories import AddressFactory, CommunityFactory, MembershipFactory, StaffFactory, UserFactory
from shequn.testing.orders import make_sku, make_staff, place_order


def person(nickname: str, phone: str, recipient: str, detail: str) -> Any:
    """A member whose nickname, phone, recipient name and street are their own (the factories share one)."""
    user = UserFactory.create(nickname=nickname, phone=phone)
    AddressFactory.create(user=user, recipient=recipient, phone=phone, detail=detail)
    return user


def delivered_order(user: Any, sku: Any, quantity: int = 1) -> Order:
    """Cash on delivery, paid (a payment row), shipped and delivered through the real staff actions."""
    order = place_order(user, sku, quantity, payment_method=PaymentMethod.COD)
    staff = make_staff(sku.shop)
    confirm_cod_payment(sku.shop, order, staff)
    ship_order(sku.shop, order.pk, staff, tracking_company="顺丰速运", tracking_number=f"SF{order.pk:08d}")
    mark_delivered(sku.shop, order.pk, staff)
    order.refresh_from_db()
    return order


def join_and_post(user: Any, shop: Any, *, community_name: str, thread_title: str) -> Any:
    community = CommunityFactory.create(shop=shop, name=community_name)
    MembershipFactory.create(community=community, user=user)
    Thread.objects.create(shop=shop, community=community, author=user, title=thread_title, body="大家好")
    return community


def promotions(user: Any, shop: Any) -> dict[str, Any]:
    """The member in a community of ``shop`` claims a coupon, grabs a whole red packet (not
    withdrawable: it lands in their non-withdrawable balance) and wins a timed lottery they alone entered."""
    owner = StaffFactory.create(shop=shop, role="owner").user
    community = CommunityFactory.create(shop=shop, name="优惠群")
    MembershipFactory.create(community=community, user=user)
    coupon = coupon_actions.claim(user, make_coupon_template(shop, owner, name="满100减20").pk)
    now = timezone.now()
    previous = use_gate(LocalGate())
    try:
        packet = redpacket_actions.fund_packet(
            shop,
            owner,
            PacketInput(
                title="周末红包",
                total_fen=888,
                count=1,
                split="random",
                audience="community",
                community_id=community.pk,
                starts_at=now - timedelta(seconds=1),
                expires_at=now + timedelta(days=1),
            ),
        )
        redpacket_actions.grab(user, packet.pk)
        redpacket_actions.materialise_grabs(idle_ms=0)
    finally:
        use_gate(previous)
    start = now + timedelta(minutes=1)
    prize = PrizeInput(name="一等奖 土鸡蛋", kind="goods", value_fen=2800, quantity=1, sku_id=make_sku(shop).pk)
    lottery = lottery_actions.create_lottery(
        shop,
        owner,
        LotteryInput(
            title="周年庆抽奖",
            rules="社群成员每人可参与一次。",
            mode="draw",
            entry_condition="community",
            community_id=community.pk,
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            draw_at=start + timedelta(hours=1),
            claim_deadline=start + timedelta(days=7),
            unclaimed_rule="逾期未领取视为放弃。",
            prizes=[prize],
        ),
    )
    lottery_actions.publish_lottery(shop, owner, lottery.pk)
    with time_machine.travel(start + timedelta(minutes=1)):
        lottery_actions.enter(user, lottery.pk)
    with time_machine.travel(start + timedelta(hours=1, seconds=1)):
        lottery_actions.draw_lottery(lottery.pk)
    return {"coupon": coupon, "packet": packet, "lottery": lottery}
