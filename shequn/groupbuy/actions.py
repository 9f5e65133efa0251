"""Campaigns (接龙): creation, publishing, sign-up, changes, tiers and the deadline close.

Locks, always taken in this order so nothing can deadlock:

- an existing order's row (``orders.Order``) before its campaign's row;
- the campaign row before the SKU rows (``create_order`` reserves stock) and the item rows
  (``CampaignItem`` counters are single conditional UPDATEs, taken after the SKUs).

A sign-up, a payment, a change and the close all hold the campaign row lock, so a sign-up
racing the close is either in before the close counts (and counted) or refused after it. The
close itself only flips the status under the lock; refunds and cancellations of its orders run
afterwards, one order at a time with that order's row lock (and the sweeper finishes whatever
a crash left).

Money: ``SignUpLine.returned_fen`` is everything this app asked back on a line; what a member
keeps paying is ``units × min(unit price, tier price)``, so each refund step pays the
difference between what was paid, what should be kept and what was already returned —
running any step twice finds nothing left to return.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import F, Sum
from django.urls import reverse
from django.utils import timezone

from shequn.catalog.kinds import is_goods
from shequn.catalog.models import Sku
from shequn.communities.actions import do_create_post
from shequn.core import audit
from shequn.core.errors import NotAuthenticated
from shequn.core.events import on_commit
from shequn.core.money import format_fen
from shequn.leaders.models import Leader
from shequn.notifications.actions import notify
from shequn.orders import actions as order_actions
from shequn.orders.enums import Fulfilment, OrderStatus, PaymentMethod
from shequn.orders.models import Order, OrderLine
from shequn.shops.models import Shop

from . import selectors, tasks
from .enums import CampaignStatus, SignUpStatus
from .errors import (
    CampaignInvalid,
    CampaignNotOpen,
    CampaignSoldOut,
    LeaderNotFound,
    PerPersonCapExceeded,
    PickupPointFull,
    SignUpNotChangeable,
)
from .models import Campaign, CampaignItem, CampaignLeader, CampaignTier, SignUp, SignUpLine

MAX_TITLE = 100
HOLD_REASON = "接龙尚未成团"
MAX_ITEMS = 20
MAX_TIERS = 5


def campaign_link(campaign: Campaign) -> str:
    return reverse("groupbuy:campaign", args=[campaign.pk])


def local_deadline(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%m月%d日 %H:%M")


# --- creating and publishing -------------------------------------------------------------


@dataclass(frozen=True)
class TierInput:
    min_quantity: int
    price_fen: int


@dataclass(frozen=True)
class ItemInput:
    sku_id: int
    price_fen: int
    stock_limit: int
    per_person_cap: int | None = None
    tiers: Sequence[TierInput] = ()


@dataclass(frozen=True)
class CampaignInput:
    title: str
    starts_at: datetime
    deadline: datetime
    pickup_date: date
    items: Sequence[ItemInput]
    description: str = ""
    min_total_units: int = 0


def _invalid(message: str, field: str) -> CampaignInvalid:
    return CampaignInvalid(message, details={"field": field})


def check_campaign(shop: Shop, data: CampaignInput, *, now: datetime | None = None) -> dict[int, Sku]:
    """Validate a campaign's facts and items; returns the items' SKUs by id."""
    now = now or timezone.now()
    title = (data.title or "").strip()
    if not title:
        raise _invalid("请填写接龙标题", "title")
    if len(title) > MAX_TITLE:
        raise _invalid(f"接龙标题最多 {MAX_TITLE} 个字", "title")
    if data.deadline <= data.starts_at:
        raise _invalid("截止时间必须晚于开始时间", "deadline")
    if data.deadline <= now:
        raise _invalid("截止时间必须在将来", "deadline")
    if data.pickup_date < timezone.localtime(data.deadline).date():
        raise _invalid("提货日期不能早于截止日期", "pickup_date")
    if data.min_total_units < 0:
        raise _invalid("成团最低件数不能为负数", "min_total_units")
    if not data.items:
        raise _invalid("请至少选择一件商品", "items")
    if len(data.items) > MAX_ITEMS:
        raise _invalid(f"一次接龙最多 {MAX_ITEMS} 件商品", "items")
    sku_ids = [item.sku_id for item in data.items]
    if len(set(sku_ids)) != len(sku_ids):
        raise _invalid("同一规格只能添加一次", "items")
    skus = {sku.pk: sku for sku in Sku.objects.filter(pk__in=sku_ids, shop=shop).select_related("product")}
    for item in data.items:
        sku = skus.get(item.sku_id)
        if sku is None or not sku.is_active or not is_goods(sku.product.kind):
            raise _invalid("商品不存在或已下架", "items")
        name = f"「{sku.product.title} {sku.spec}」"
        if item.price_fen < 1:
            raise _invalid(f"{name}接龙价至少 ¥0.01", "items")
        if item.stock_limit < 1:
            raise _invalid(f"{name}限量至少 1 件", "items")
        if item.per_person_cap is not None and item.per_person_cap < 1:
            raise _invalid(f"{name}每人限购至少 1 件", "items")
        if len(item.tiers) > MAX_TIERS:
            raise _invalid(f"{name}最多设置 {MAX_TIERS} 档阶梯价", "items")
        last_quantity, last_price = 1, item.price_fen
        for tier in sorted(item.tiers, key=lambda t: t.min_quantity):
            if tier.min_quantity <= last_quantity:
                raise _invalid(f"{name}阶梯件数须逐档增加且大于 1", "items")
            if tier.price_fen < 1 or tier.price_fen >= last_price:
                raise _invalid(f"{name}阶梯价须随件数增加而严格降低，且至少 ¥0.01", "items")
            last_quantity, last_price = tier.min_quantity, tier.price_fen
    return skus


def _write_items(campaign: Campaign, data: CampaignInput) -> None:
    CampaignItem.objects.filter(campaign=campaign).delete()
    for position, item in enumerate(data.items):
        row = CampaignItem.objects.create(
            campaign=campaign,
            sku_id=item.sku_id,
            price_fen=item.price_fen,
            stock_limit=item.stock_limit,
            per_person_cap=item.per_person_cap,
            position=position,
        )
        CampaignTier.objects.bulk_create(
            [CampaignTier(item=row, min_quantity=t.min_quantity, price_fen=t.price_fen) for t in item.tiers]
        )


def _check_leaders(shop: Shop, leader_ids: Iterable[int]) -> list[Leader]:
    ids = sorted(set(leader_ids))
    if not ids:
        raise _invalid("请至少选择一位团长", "leader_ids")
    return [selectors.access_leader(shop, pk) for pk in ids]


def do_create_campaign(
    shop: Shop, actor: Any, data: CampaignInput, leader_ids: Iterable[int], *, ip: str | None = None
) -> Campaign:
    """The operator drafts a campaign for the chosen leaders (publish it to open sign-ups)."""
    check_campaign(shop, data)
    leaders = _check_leaders(shop, leader_ids)
    with transaction.atomic():
        campaign = Campaign.objects.create(
            shop=shop,
            title=data.title.strip(),
            description=data.description.strip(),
            created_by=actor,
            starts_at=data.starts_at,
            deadline=data.deadline,
            pickup_date=data.pickup_date,
            min_total_units=data.min_total_units,
        )
        _write_items(campaign, data)
        CampaignLeader.objects.bulk_create([CampaignLeader(campaign=campaign, leader=leader) for leader in leaders])
        audit.record(
            actor=actor, shop=shop, action="campaign.create", obj=campaign, ip=ip, leaders=[x.pk for x in leaders]
        )
    return campaign


def do_update_campaign(
    shop: Shop, campaign: Campaign, actor: Any, data: CampaignInput, leader_ids: Iterable[int], *, ip: str | None = None
) -> Campaign:
    """Edit a draft (published campaigns keep their terms: members signed up on them)."""
    check_campaign(shop, data)
    leaders = _check_leaders(shop, leader_ids) if campaign.created_by_leader_id is None else None
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk, shop=shop)
        if locked.status != CampaignStatus.DRAFT:
            raise CampaignNotOpen("已发布的接龙不能再修改，可取消后重新创建", code="campaign_not_draft")
        Campaign.objects.filter(pk=locked.pk).update(
            title=data.title.strip(),
            description=data.description.strip(),
            starts_at=data.starts_at,
            deadline=data.deadline,
            pickup_date=data.pickup_date,
            min_total_units=data.min_total_units,
        )
        _write_items(locked, data)
        if leaders is not None:
            CampaignLeader.objects.filter(campaign=locked).delete()
            CampaignLeader.objects.bulk_create([CampaignLeader(campaign=locked, leader=x) for x in leaders])
        audit.record(actor=actor, shop=shop, action="campaign.update", obj=locked, ip=ip)
    campaign.refresh_from_db()
    return campaign


def do_create_leader_campaign(leader: Leader, data: CampaignInput, *, publish: bool = True) -> Campaign:
    """An active leader's own campaign from the shop's catalog: only their point takes part."""
    shop = leader.shop
    check_campaign(shop, data)
    with transaction.atomic():
        campaign = Campaign.objects.create(
            shop=shop,
            title=data.title.strip(),
            description=data.description.strip(),
            created_by=leader.user,
            created_by_leader=leader,
            starts_at=data.starts_at,
            deadline=data.deadline,
            pickup_date=data.pickup_date,
            min_total_units=data.min_total_units,
        )
        _write_items(campaign, data)
        CampaignLeader.objects.create(campaign=campaign, leader=leader)
        audit.record(actor=leader.user, shop=shop, action="campaign.create", obj=campaign, leader=leader.pk)
        if publish:
            _publish(campaign, leader.user, None)
    return campaign


def _post_body(campaign: Campaign) -> str:
    lines = [f"【接龙】{campaign.title}"]
    for item in CampaignItem.objects.filter(campaign=campaign).select_related("sku__product"):
        lines.append(f"· {item.sku.product.title} {item.sku.spec} 接龙价 {format_fen(item.price_fen)}")
    lines.append(f"截止 {local_deadline(campaign.deadline)}，{campaign.pickup_date:%m月%d日} 到团长自提点提货")
    # The link travels as the campaign card under the post (selectors.campaign_cards), not as text.
    return "\n".join(lines)


def _publish(campaign: Campaign, actor: Any, ip: str | None) -> None:
    """Under the campaign lock: open it, post it once per community, schedule its close."""
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.OPEN)
    campaign.status = CampaignStatus.OPEN
    entries = list(CampaignLeader.objects.filter(campaign=campaign).select_related("leader__community"))
    body = _post_body(campaign)
    posts: dict[int, Any] = {}
    for entry in sorted(entries, key=lambda e: e.leader_id):
        community = entry.leader.community
        if community.pk not in posts:
            posts[community.pk] = do_create_post(campaign.shop, community, body, actor=actor, ip=ip)
        CampaignLeader.objects.filter(pk=entry.pk).update(post=posts[community.pk])
    on_commit(tasks.schedule_close, campaign.pk, campaign.deadline)


def do_publish_campaign(shop: Shop, campaign: Campaign, actor: Any, *, ip: str | None = None) -> Campaign:
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().select_related("shop").get(pk=campaign.pk, shop=shop)
        if locked.status != CampaignStatus.DRAFT:
            raise CampaignNotOpen("这个接龙已经发布过了", code="campaign_not_draft")
        if locked.deadline <= timezone.now():
            raise _invalid("截止时间已过，请先修改截止时间", "deadline")
        _publish(locked, actor, ip)
        audit.record(actor=actor, shop=shop, action="campaign.publish", obj=locked, ip=ip)
    campaign.refresh_from_db()
    return campaign


def do_cancel_campaign(shop: Shop, campaign: Campaign, actor: Any, *, reason: str = "", ip: str | None = None) -> str:
    """Call a campaign off: like a failure, every paid sign-up is refunded in full."""
    if campaign.shop_id != shop.pk:
        raise selectors.CampaignNotFound("接龙不存在")
    reason = (reason or "").strip()[:100]
    status = close_campaign(campaign.pk, cancel=True, reason=reason)
    if status is None:
        raise CampaignNotOpen("接龙已结束，不能取消", code="campaign_closed")
    audit.record(actor=actor, shop=shop, action="campaign.cancel", obj=campaign, ip=ip, reason=reason)
    return status


# --- signing up --------------------------------------------------------------------------


def _check_open(campaign: Campaign, now: datetime) -> None:
    if campaign.status != CampaignStatus.OPEN:
        raise CampaignNotOpen(f"接龙{CampaignStatus(campaign.status).label}，不能再接龙")
    if now < campaign.starts_at:
        raise CampaignNotOpen(f"接龙将于 {local_deadline(campaign.starts_at)} 开始", code="campaign_not_started")
    if now >= campaign.deadline:
        raise CampaignNotOpen("接龙已截止", code="campaign_deadline_passed")


def _live_units(campaign: Campaign, user: Any) -> dict[int, int]:
    rows = (
        SignUpLine.objects.filter(
            sign_up__campaign=campaign, sign_up__user=user, sign_up__status__in=selectors.LIVE_STATUSES
        )
        .values("item_id")
        .annotate(units=Sum("units"))
    )
    return {row["item_id"]: row["units"] for row in rows}


def _item_name(item: CampaignItem) -> str:
    return f"「{item.sku.product.title} {item.sku.spec}」".replace(" 」", "」")


def sign_up(user: Any, campaign_id: int, quantities: Mapping[int, int], *, leader_id: int | None = None) -> SignUp:
    """Sign ``user`` up: one pickup order at the campaign's prices, payable until the deadline."""
    if not getattr(user, "is_authenticated", False):
        raise NotAuthenticated("请先登录")
    wanted = {int(item_id): int(count) for item_id, count in quantities.items() if int(count) != 0}
    if not wanted:
        raise CampaignInvalid("请选择要接龙的商品和数量", details={"field": "quantities"})
    if any(count < 1 or count > 999 for count in wanted.values()):
        raise CampaignInvalid("数量应在 1 到 999 之间", details={"field": "quantities"})
    campaign = selectors.access_member_campaign(user, campaign_id)
    leaders = selectors.member_leaders(user, campaign)
    if leader_id is None:
        leader = selectors.default_leader(user, leaders)
    else:
        leader = next((x for x in leaders if x.pk == leader_id), None)
    if leader is None or leader.pickup_point_id is None:
        raise LeaderNotFound("请选择你的团长")
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        _check_open(locked, timezone.now())
        items = {item.pk: item for item in CampaignItem.objects.filter(campaign=locked).select_related("sku__product")}
        if any(item_id not in items for item_id in wanted):
            raise CampaignInvalid("商品不在本次接龙中", details={"field": "quantities"})
        _check_point_capacity(leader, locked)
        held = _live_units(locked, user)
        for item_id, count in sorted(wanted.items()):
            item = items[item_id]
            if item.stock_limit - item.sold < count:
                left = max(0, item.stock_limit - item.sold)
                raise CampaignSoldOut(
                    f"{_item_name(item)}已接满" if left == 0 else f"{_item_name(item)}只剩 {left} 件",
                    details={"item_id": item_id, "left": left},
                )
            cap = item.per_person_cap
            if cap is not None and held.get(item_id, 0) + count > cap:
                already = held.get(item_id, 0)
                raise PerPersonCapExceeded(
                    f"{_item_name(item)}每人限购 {cap} 件" + (f"，你已接龙 {already} 件" if already else ""),
                    details={"item_id": item_id, "cap": cap},
                )
        lines = [(items[item_id].sku_id, count) for item_id, count in sorted(wanted.items())]
        prices = {items[item_id].sku_id: _current_price(items[item_id]) for item_id in wanted}
        order = order_actions.create_order(
            user,
            lines=lines,
            unit_prices=prices,
            fulfilment=Fulfilment.PICKUP,
            pickup_point_id=leader.pickup_point_id,
            payment_method=PaymentMethod.SANDBOX,
            pay_by=locked.deadline,
            hold=HOLD_REASON,  # no goods handed over before the campaign succeeds
        )
        # After the SKUs (lock order): one conditional UPDATE per item, never above the limit.
        for item_id, count in sorted(wanted.items()):
            taken = CampaignItem.objects.filter(pk=item_id, sold__lte=F("stock_limit") - count).update(
                sold=F("sold") + count
            )
            if taken != 1:
                raise CampaignSoldOut(f"{_item_name(items[item_id])}已接满", details={"item_id": item_id, "left": 0})
        entry = SignUp.objects.create(
            campaign=locked, leader=leader, user=user, order=order, units=sum(wanted.values())
        )
        by_sku = {line.sku_id: line for line in order.lines.all()}
        SignUpLine.objects.bulk_create(
            [
                SignUpLine(
                    sign_up=entry,
                    item=items[item_id],
                    order_line=by_sku[items[item_id].sku_id],
                    units=count,
                    unit_price_fen=by_sku[items[item_id].sku_id].unit_price_fen,
                )
                for item_id, count in sorted(wanted.items())
            ]
        )
    return entry


def _check_point_capacity(leader: Leader, campaign: Campaign) -> None:
    """A pickup point takes at most ``capacity_per_day`` live sign-ups for one pickup date, across
    campaigns. The leader row lock makes the count exact when two campaigns share the date."""
    capacity = Leader.objects.select_for_update().values_list("capacity_per_day", flat=True).get(pk=leader.pk)
    if capacity is None:
        return
    taken = SignUp.objects.filter(
        leader=leader, campaign__pickup_date=campaign.pickup_date, status__in=selectors.LIVE_STATUSES
    ).count()
    if taken >= capacity:
        day = f"{campaign.pickup_date:%m月%d日}"
        raise PickupPointFull(
            f"「{leader.point_name}」{day}的取货名额已满（每天 {capacity} 单），请选择其他团长",
            details={"leader_id": leader.pk, "capacity_per_day": capacity},
        )


def _current_price(item: CampaignItem) -> int:
    return min(item.price_fen, item.tier_price_fen or item.price_fen)


# --- order lifecycle (receivers of orders.signals) ------------------------------------------


def _give_back(lines: Iterable[SignUpLine], *, paid: bool) -> None:
    for line in sorted(lines, key=lambda x: x.item_id):
        if line.units <= 0:
            continue
        CampaignItem.objects.filter(pk=line.item_id, sold__gte=line.units).update(sold=F("sold") - line.units)
        if paid:
            CampaignItem.objects.filter(pk=line.item_id, paid_units__gte=line.units).update(
                paid_units=F("paid_units") - line.units
            )


def _owed(line: SignUpLine, order_line: OrderLine, price_now: int | None) -> int:
    """What is still to go back on ``line``: paid − kept − already returned (never negative)."""
    unit = line.unit_price_fen if price_now is None else min(line.unit_price_fen, price_now)
    return max(0, order_line.total_fen - line.units * unit - line.returned_fen)


def _return(order: Order, line: SignUpLine, amount: int, reason: str, *, tier: bool = False) -> int:
    """Ask the gateway for ``amount`` of ``line`` back (caller holds the order lock); book it."""
    if amount <= 0:
        return 0
    refund = order_actions.refund_automatically(order, line.order_line, reason, amount_fen=amount)
    given = refund.amount_fen if refund is not None else 0
    if given:
        SignUpLine.objects.filter(pk=line.pk).update(
            returned_fen=F("returned_fen") + given,
            tier_refunded_fen=F("tier_refunded_fen") + (given if tier else 0),
        )
        if tier:
            SignUp.objects.filter(pk=line.sign_up_id).update(tier_refunded_fen=F("tier_refunded_fen") + given)
    return given


def _refund_everything(order: Order, entry: SignUp, reason: str) -> int:
    """Refund all a sign-up still holds (caller holds the order lock); the sign-up is refunded."""
    given = 0
    for line in SignUpLine.objects.filter(sign_up=entry).select_related("order_line").order_by("pk"):
        SignUpLine.objects.filter(pk=line.pk).update(units=0)
        order_actions.restock_line(line.order_line, line.units)  # never handed over: back on the shelf
        line.units = 0
        given += _return(order, line, _owed(line, line.order_line, None), reason)
    SignUp.objects.filter(pk=entry.pk).update(status=SignUpStatus.REFUNDED, units=0)
    return given


def on_order_paid(sender: Any, order: Order, **kwargs: Any) -> None:
    entry = SignUp.objects.filter(order_id=order.pk).first()
    if entry is None:
        return
    campaign = Campaign.objects.select_for_update().get(pk=entry.campaign_id)
    entry = SignUp.objects.get(pk=entry.pk)
    if entry.status == SignUpStatus.CONFIRMED:
        return
    lines = list(SignUpLine.objects.filter(sign_up=entry).select_related("order_line"))
    if entry.status != SignUpStatus.PENDING_PAYMENT or campaign.status != CampaignStatus.OPEN:
        # Paid too late: the campaign closed (or the order had closed and a late payment
        # reinstated it). It was not counted, so it cannot stay: the money goes back in full.
        if entry.status == SignUpStatus.PENDING_PAYMENT:
            _give_back(lines, paid=False)
        elif entry.status == SignUpStatus.CANCELLED:
            pass  # counters were given back when the order closed
        _refund_everything(order, entry, f"接龙「{campaign.title}」已截止，付款未能计入，全额退款")
        return
    sequence = campaign.last_sequence + 1
    Campaign.objects.filter(pk=campaign.pk).update(last_sequence=sequence)
    SignUp.objects.filter(pk=entry.pk).update(
        status=SignUpStatus.CONFIRMED, sequence=sequence, paid_at=order.paid_at or timezone.now()
    )
    tier_moved = False
    for line in sorted(lines, key=lambda x: x.item_id):
        CampaignItem.objects.filter(pk=line.item_id).update(paid_units=F("paid_units") + line.units)
        tier_moved |= _reach_tier(line.item_id)
    if tier_moved or _pays_above_tier(lines):
        on_commit(tasks.start_tier_refunds, campaign.pk)


def _reach_tier(item_id: int) -> bool:
    """Under the campaign lock: lower the item's price to the best tier its paid units reached."""
    item = CampaignItem.objects.get(pk=item_id)
    tier = CampaignTier.objects.filter(item_id=item_id, min_quantity__lte=item.paid_units).order_by("price_fen").first()
    if tier is None or tier.price_fen >= _current_price(item):
        return False
    CampaignItem.objects.filter(pk=item_id).update(tier_price_fen=tier.price_fen)
    return True


def _pays_above_tier(lines: Sequence[SignUpLine]) -> bool:
    prices = dict(CampaignItem.objects.filter(pk__in=[x.item_id for x in lines]).values_list("pk", "tier_price_fen"))
    return any(x.unit_price_fen > (prices.get(x.item_id) or x.unit_price_fen) for x in lines)


def on_order_released(sender: Any, order: Order, **kwargs: Any) -> None:
    """An unpaid sign-up's order closed or was cancelled: its units go back to the campaign."""
    entry = SignUp.objects.filter(order_id=order.pk).first()
    if entry is None:
        return
    if (
        SignUp.objects.filter(pk=entry.pk, status=SignUpStatus.PENDING_PAYMENT).update(status=SignUpStatus.CANCELLED)
        != 1
    ):
        return
    _give_back(SignUpLine.objects.filter(sign_up=entry), paid=False)


def on_line_refunded(sender: Any, order: Order, line: OrderLine, amount_fen: int, **kwargs: Any) -> None:
    """Bookkeeping: a confirmed sign-up whose order was refunded in full outside this app
    (staff approved a member's request) leaves the list and gives its units back."""
    entry = SignUp.objects.filter(order_id=order.pk).first()
    if entry is None or order.refunded_fen < order.total_fen:
        return
    Campaign.objects.select_for_update().get(pk=entry.campaign_id)
    if SignUp.objects.filter(pk=entry.pk, status=SignUpStatus.CONFIRMED).update(status=SignUpStatus.REFUNDED) == 1:
        lines = list(SignUpLine.objects.filter(sign_up=entry))
        _give_back(lines, paid=True)
        SignUpLine.objects.filter(sign_up=entry).update(units=0)
        SignUp.objects.filter(pk=entry.pk).update(units=0)


# --- members change or cancel --------------------------------------------------------------


def change_sign_up(user: Any, sign_up_id: int, quantities: Mapping[int, int]) -> SignUp:
    """Fewer units before the deadline (0 everywhere = cancel): the difference is refunded once."""
    entry = selectors.access_my_sign_up(user, sign_up_id)
    new_units = {int(item_id): int(count) for item_id, count in quantities.items()}
    with transaction.atomic():
        order = Order.objects.select_for_update().select_related("user", "shop").get(pk=entry.order_id)
        campaign = Campaign.objects.select_for_update().get(pk=entry.campaign_id)
        entry = SignUp.objects.get(pk=entry.pk)
        _check_changeable(campaign, entry)
        if entry.status == SignUpStatus.PENDING_PAYMENT:
            raise SignUpNotChangeable("未付款的接龙不能修改数量，可以取消后重新接龙", code="sign_up_unpaid")
        lines = list(SignUpLine.objects.filter(sign_up=entry).select_related("order_line", "item__sku__product"))
        known = {line.item_id for line in lines}
        if any(item_id not in known for item_id in new_units):
            raise CampaignInvalid("商品不在这次接龙中", details={"field": "quantities"})
        for line in lines:
            count = new_units.get(line.item_id, line.units)
            if count < 0 or count > line.units:
                raise CampaignInvalid(f"{_item_name(line.item)}只能减少数量", details={"field": "quantities"})
        if all(new_units.get(line.item_id, line.units) == 0 for line in lines):
            _refund_everything(order, entry, f"取消接龙「{campaign.title}」")
            _give_back(lines, paid=True)
            return SignUp.objects.get(pk=entry.pk)
        for line in lines:
            count = new_units.get(line.item_id, line.units)
            if count == line.units:
                continue
            less = line.units - count
            _give_back([SignUpLine(item_id=line.item_id, units=less)], paid=True)
            order_actions.restock_line(line.order_line, less)
            SignUpLine.objects.filter(pk=line.pk).update(units=count)
            line.units = count
            _return(
                order,
                line,
                _owed(line, line.order_line, line.item.tier_price_fen),
                f"接龙「{campaign.title}」减少 {less} 件{line.item.sku.product.title}",
            )
        SignUp.objects.filter(pk=entry.pk).update(units=sum(new_units.get(x.item_id, x.units) for x in lines))
    return SignUp.objects.get(pk=entry.pk)


def cancel_sign_up(user: Any, sign_up_id: int) -> SignUp:
    """Cancel before the deadline: an unpaid order is cancelled, a paid one refunded in full once."""
    entry = selectors.access_my_sign_up(user, sign_up_id)
    if entry.status == SignUpStatus.PENDING_PAYMENT:
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=entry.order_id)
            campaign = Campaign.objects.select_for_update().get(pk=entry.campaign_id)
            fresh = SignUp.objects.get(pk=entry.pk)
            _check_changeable(campaign, fresh)
            if fresh.status == SignUpStatus.PENDING_PAYMENT and order.status == OrderStatus.PENDING_PAYMENT:
                order_actions.cancel_order_by_member(user, order.number)
                return SignUp.objects.get(pk=entry.pk)
    lines = SignUpLine.objects.filter(sign_up=entry)
    return change_sign_up(user, sign_up_id, {line.item_id: 0 for line in lines})


def _check_changeable(campaign: Campaign, entry: SignUp) -> None:
    if entry.status not in selectors.LIVE_STATUSES:
        raise SignUpNotChangeable(f"接龙{SignUpStatus(entry.status).label}，不能再修改")
    if campaign.status != CampaignStatus.OPEN or timezone.now() >= campaign.deadline:
        raise SignUpNotChangeable("接龙已截止，不能再修改或取消", code="campaign_deadline_passed")


# --- tiers ------------------------------------------------------------------------------


def give_tier_differences(campaign_id: int) -> int:
    """Give every confirmed sign-up that paid above the reached tier price the difference, once.

    Each sign-up in its own transaction: its order's row lock, then the campaign's (lock order).
    Returns the fen given back in this run.
    """
    given = 0
    candidates = (
        SignUpLine.objects.filter(
            sign_up__campaign_id=campaign_id,
            sign_up__status=SignUpStatus.CONFIRMED,
            item__tier_price_fen__isnull=False,
            unit_price_fen__gt=F("item__tier_price_fen"),
        )
        .values_list("sign_up__order_id", flat=True)
        .distinct()
    )
    for order_id in sorted(set(candidates)):
        with transaction.atomic():
            order = Order.objects.select_for_update().select_related("user", "shop").get(pk=order_id)
            campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
            entry = SignUp.objects.get(order_id=order_id)
            if entry.status != SignUpStatus.CONFIRMED:
                continue
            for line in SignUpLine.objects.filter(sign_up=entry).select_related("order_line", "item").order_by("pk"):
                tier = line.item.tier_price_fen
                if tier is None or line.unit_price_fen <= tier:
                    continue
                given += _return(
                    order,
                    line,
                    _owed(line, line.order_line, tier),
                    f"接龙「{campaign.title}」达到阶梯价 {format_fen(tier)}，退还差价",
                    tier=True,
                )
    return given


# --- the deadline -----------------------------------------------------------------------


def close_campaign(
    campaign_id: int, *, now: datetime | None = None, cancel: bool = False, reason: str = ""
) -> str | None:
    """Close a campaign exactly once: at its deadline (succeeded or failed) or called off.

    Returns the new status, or None when it was closed already (or not yet due).
    """
    now = now or timezone.now()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().select_related("shop").filter(pk=campaign_id).first()
        allowed = (CampaignStatus.OPEN, CampaignStatus.DRAFT) if cancel else (CampaignStatus.OPEN,)
        if campaign is None or campaign.status not in allowed:
            return None
        if not cancel and campaign.deadline > now:
            return None
        if cancel:
            status = CampaignStatus.CANCELLED
        else:
            reached = selectors.paid_units(campaign) >= campaign.min_total_units
            status = CampaignStatus.SUCCEEDED if reached else CampaignStatus.FAILED
        if Campaign.objects.filter(pk=campaign.pk, status=campaign.status).update(status=status, closed_at=now) != 1:
            return None
        campaign.status, campaign.closed_at = status, now
        if status == CampaignStatus.SUCCEEDED:
            _notify_success(campaign)
    finish_closed_campaign(campaign, reason=reason)
    return status


def _notify_success(campaign: Campaign) -> None:
    confirmed = SignUp.objects.filter(campaign=campaign, status=SignUpStatus.CONFIRMED).select_related(
        "user", "leader__pickup_point"
    )
    for entry in confirmed:
        point = entry.leader.pickup_point
        where = f"「{point.name}」（{point.address}）" if point else "团长自提点"
        notify(
            entry.user,
            shop=campaign.shop,
            kind="groupbuy.succeeded",
            title="接龙成团啦",
            body=f"「{campaign.title}」已成团，请于 {campaign.pickup_date:%m月%d日} 到{where}自提。",
            link=campaign_link(campaign),
        )


def finish_closed_campaign(campaign: Campaign, *, reason: str = "") -> int:
    """After the close: cancel unpaid orders; when failed or cancelled, refund every paid one.

    One order at a time with its row lock; each sign-up is handled once (by its status).
    Returns how many sign-ups it finished.
    """
    finished = 0
    pending = SignUp.objects.filter(campaign=campaign, status=SignUpStatus.PENDING_PAYMENT).values_list(
        "order_id", flat=True
    )
    for order_id in list(pending):
        if order_actions.cancel_automatically(order_id, f"接龙「{campaign.title}」已截止，未付款的接龙已取消"):
            finished += 1
    if campaign.status == CampaignStatus.SUCCEEDED:
        return finished + _release_holds(campaign)
    if campaign.status != CampaignStatus.FAILED and campaign.status != CampaignStatus.CANCELLED:
        return finished
    if campaign.status == CampaignStatus.FAILED:
        why = f"接龙「{campaign.title}」未达到成团件数，全额退款"
        title, body = "接龙未成团", f"「{campaign.title}」未达到成团件数，已为你全额退款，原路退回。"
    else:
        why = f"接龙「{campaign.title}」已取消，全额退款"
        title = "接龙已取消"
        body = f"「{campaign.title}」已取消{('：' + reason) if reason else ''}，已为你全额退款，原路退回。"
    confirmed = SignUp.objects.filter(campaign=campaign, status=SignUpStatus.CONFIRMED).values_list("pk", "order_id")
    for entry_id, order_id in list(confirmed):
        with transaction.atomic():
            order = Order.objects.select_for_update().select_related("user", "shop").get(pk=order_id)
            entry = SignUp.objects.select_related("user").get(pk=entry_id)
            if entry.status != SignUpStatus.CONFIRMED:
                continue
            _refund_everything(order, entry, why)
            notify(
                entry.user,
                shop=order.shop,
                kind="groupbuy.failed",
                title=title,
                body=body,
                link=campaign_link(campaign),
            )
            finished += 1
    return finished


def _release_holds(campaign: Campaign) -> int:
    """The campaign succeeded: its confirmed orders may now be prepared and picked up."""
    released = 0
    held = SignUp.objects.filter(campaign=campaign, status=SignUpStatus.CONFIRMED).exclude(order__hold_reason="")
    for order_id in list(held.values_list("order_id", flat=True)):
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=order_id)
            if order_actions.release_hold(order, f"接龙「{campaign.title}」已成团，可以备货提货"):
                released += 1
    return released


def close_due_campaigns(*, now: datetime | None = None, limit: int = 100) -> int:
    """The sweeper: close open campaigns past their deadline, and finish closed ones a crash left
    with unpaid or unrefunded sign-ups. Returns how many campaigns it closed."""
    now = now or timezone.now()
    closed = 0
    due = Campaign.objects.filter(status=CampaignStatus.OPEN, deadline__lte=now).values_list("pk", flat=True)
    for campaign_id in list(due[:limit]):
        if close_campaign(campaign_id, now=now) is not None:
            closed += 1
    leftovers = (
        Campaign.objects.filter(status__in=selectors.CLOSED_STATUSES, sign_ups__status=SignUpStatus.PENDING_PAYMENT)
        | Campaign.objects.filter(
            status__in=(CampaignStatus.FAILED, CampaignStatus.CANCELLED), sign_ups__status=SignUpStatus.CONFIRMED
        )
        | Campaign.objects.filter(status=CampaignStatus.SUCCEEDED, sign_ups__status=SignUpStatus.CONFIRMED).exclude(
            sign_ups__order__hold_reason=""
        )
    ).distinct()
    for campaign in list(leftovers[:limit]):
        finish_closed_campaign(campaign)
    return closed
