"""Reads for group-buy fulfilment: who wants what, per campaign, leader and SKU.

Console reads are scoped to the caller's shop (``access_*(shop, id)``: foreign ids are 404).
Leader reads go through ``my_leader(user)``: the caller's active leader role with a pickup
point; a leader only ever sees sign-ups of their own point.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from shequn.catalog.weights import format_grams, line_weight
from shequn.core.errors import NotAuthenticated
from shequn.core.money import percent_of
from shequn.core.phone import mask_name
from shequn.groupbuy.enums import CampaignStatus, SignUpStatus
from shequn.groupbuy.models import Campaign, CampaignLeader, SignUp
from shequn.leaders.enums import LeaderStatus
from shequn.leaders.models import Leader
from shequn.orders.enums import OrderStatus, PaymentMethod
from shequn.orders.models import Order, OrderLine
from shequn.shops.models import DeliverySlot, Shop

from .enums import TicketStatus
from .errors import CampaignNotFound, LeaderNotFound, SettlementNotFound, TicketNotFound
from .models import GoodsReceipt, PickupTicket, Settlement, SettlementLine

# Campaigns whose sign-ups are shown on summaries and pick lists (open: a preview; succeeded: final).
LISTED_STATUSES = (CampaignStatus.OPEN, CampaignStatus.SUCCEEDED)
NOT_A_LEADER = gettext_noop("你还不是团长")
# A suspended leader takes no new campaigns but still hands out what their point holds.
FULFILLING_STATUSES = (LeaderStatus.ACTIVE, LeaderStatus.SUSPENDED)


# --- leaders -----------------------------------------------------------------------


def my_leaders(user: Any) -> QuerySet[Leader]:
    if not getattr(user, "is_authenticated", False):
        return Leader.objects.none()
    return Leader.objects.select_related("shop", "pickup_point", "user").filter(
        user=user, status__in=FULFILLING_STATUSES, pickup_point__isnull=False
    )


def my_leader(user: Any, shop_id: int | None = None) -> Leader:
    """The caller's leader role (active or suspended; in ``shop_id`` when given, else their first)."""
    if not getattr(user, "is_authenticated", False):
        raise NotAuthenticated(_("请先登录"), code="not_authenticated")
    roles = my_leaders(user)
    if shop_id is not None:
        roles = roles.filter(shop_id=shop_id)
    leader = roles.order_by("id").first()
    if leader is None:
        raise LeaderNotFound(_(NOT_A_LEADER))
    return leader


def access_leader(shop: Shop, leader_id: int) -> Leader:
    leader = Leader.objects.select_related("pickup_point", "user").filter(shop=shop, pk=leader_id).first()
    if leader is None:
        raise LeaderNotFound(_("团长不存在"))
    return leader


def shop_leaders(shop: Shop) -> QuerySet[Leader]:
    return Leader.objects.select_related("pickup_point", "user").filter(shop=shop, pickup_point__isnull=False)


# --- campaigns ---------------------------------------------------------------------


def access_campaign(shop: Shop, campaign_id: int) -> Campaign:
    campaign = Campaign.objects.filter(shop=shop, pk=campaign_id).first()
    if campaign is None:
        raise CampaignNotFound(_("接龙不存在"))
    return campaign


def access_leader_campaign(leader: Leader, campaign_id: int) -> Campaign:
    """A campaign the leader takes part in; anything else looks absent."""
    campaign = Campaign.objects.filter(shop_id=leader.shop_id, pk=campaign_id).first()
    if campaign is None or not CampaignLeader.objects.filter(campaign=campaign, leader=leader).exists():
        raise CampaignNotFound(_("接龙不存在"))
    return campaign


def fulfilment_campaigns(shop: Shop) -> QuerySet[Campaign]:
    return Campaign.objects.filter(shop=shop, status__in=LISTED_STATUSES).order_by("-pickup_date", "-id")


def leader_campaigns(leader: Leader) -> QuerySet[Campaign]:
    return fulfilment_campaigns(leader.shop).filter(campaignleader__leader=leader).distinct()


def confirmed_sign_ups(campaign: Campaign, leader: Leader | None = None) -> QuerySet[SignUp]:
    found = SignUp.objects.select_related("user", "leader", "order").filter(
        campaign=campaign, status=SignUpStatus.CONFIRMED
    )
    if leader is not None:
        found = found.filter(leader=leader)
    return found.order_by("sequence", "id")


# --- what each sign-up wants ------------------------------------------------------------


@dataclass
class Wanted:
    """Units of one SKU a sign-up still wants, at the price paid, on its order line."""

    sku_id: int
    title: str
    spec: str
    units: int
    unit_price_fen: int
    order_line: OrderLine


def wanted(sign_up: SignUp) -> list[Wanted]:
    """What ``sign_up`` still wants, at the price the member keeps paying. The group-buy app's
    sign-up lines (units reduced by a change before the deadline; a tier price reached lowers
    the unit price) when it keeps them; else the order's lines."""
    related: Any = getattr(sign_up, "lines", None)
    rows = list(related.select_related("order_line", "item").order_by("id")) if related is not None else []
    if rows:
        return [
            Wanted(
                row.item.sku_id,
                row.order_line.title,
                row.order_line.spec,
                row.units,
                min(row.unit_price_fen, getattr(row.item, "tier_price_fen", None) or row.unit_price_fen),
                row.order_line,
            )
            for row in rows
            if row.units > 0
        ]
    return [
        Wanted(line.sku_id, line.title, line.spec, line.quantity, line.unit_price_fen, line)
        for line in OrderLine.objects.filter(order_id=sign_up.order_id).order_by("id")
    ]


@dataclass
class PickRow:
    sequence: int
    name: str  # masked
    title: str
    spec: str
    units: int
    sign_up_id: int
    # Sold by weight: "预估 1.2 斤" (and "实重 1.05 斤" once weighed); "" for goods priced per piece.
    weight_note: str = ""
    order_id: int | None = None


def weight_note(line: OrderLine, units: int) -> str:
    """The pick list's weight column for ``units`` of a weighed line: estimate, and actual once weighed."""
    weight = line_weight(line)
    if weight is None or line.estimated_grams is None:
        return ""
    note = _("预估 %(value)s") % {"value": format_grams(line.estimated_grams * units, weight.unit_grams)}
    return (
        _("%(note)s，实重 %(actual_label)s") % {"note": note, "actual_label": weight.actual_label}
        if weight.actual_grams is not None
        else note
    )


@dataclass
class SummaryRow:
    sku_id: int
    title: str
    spec: str
    units: int = 0
    amount_fen: int = 0
    per_leader: dict[int, int] = field(default_factory=dict)


def member_name(user: Any) -> str:
    return mask_name(getattr(user, "nickname", "") or user.username)


def pick_list(campaign: Campaign, leader: Leader) -> list[PickRow]:
    """Who gets what at ``leader``'s point: one row per sign-up and SKU, by sequence."""
    rows: list[PickRow] = []
    for sign_up in confirmed_sign_ups(campaign, leader):
        for want in wanted(sign_up):
            rows.append(
                PickRow(
                    sign_up.sequence or 0,
                    member_name(sign_up.user),
                    want.title,
                    want.spec,
                    want.units,
                    sign_up.pk,
                    weight_note=weight_note(want.order_line, want.units),
                    order_id=want.order_line.order_id,
                )
            )
    return rows


def pick_totals(rows: list[PickRow]) -> list[tuple[str, str, int]]:
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for row in rows:
        totals[(row.title, row.spec)] += row.units
    return [(title, spec, units) for (title, spec), units in totals.items()]


def supplier_summary(
    shop: Shop, *, campaign: Campaign | None = None, pickup_date: date | None = None
) -> list[SummaryRow]:
    """Units to buy from the supplier per SKU, across leaders: one campaign, or every listed
    campaign picked up on ``pickup_date``."""
    campaigns = fulfilment_campaigns(shop)
    if campaign is not None:
        campaigns = campaigns.filter(pk=campaign.pk)
    if pickup_date is not None:
        campaigns = campaigns.filter(pickup_date=pickup_date)
    summary: dict[int, SummaryRow] = {}
    sign_ups = (
        SignUp.objects.select_related("order")
        .filter(campaign__in=campaigns, status=SignUpStatus.CONFIRMED)
        .order_by("campaign_id", "sequence")
    )
    for sign_up in sign_ups:
        for want in wanted(sign_up):
            row = summary.setdefault(want.sku_id, SummaryRow(want.sku_id, want.title, want.spec))
            row.units += want.units
            row.amount_fen += want.units * want.unit_price_fen
            row.per_leader[sign_up.leader_id] = row.per_leader.get(sign_up.leader_id, 0) + want.units
    return sorted(summary.values(), key=lambda r: (r.title, r.spec, r.sku_id))


def expected_units(campaign: Campaign, leader: Leader) -> dict[int, tuple[str, str, int]]:
    """SKU id → (title, spec, units) the leader's point should receive."""
    found: dict[int, tuple[str, str, int]] = {}
    for sign_up in confirmed_sign_ups(campaign, leader):
        for want in wanted(sign_up):
            title, spec, units = found.get(want.sku_id, (want.title, want.spec, 0))
            found[want.sku_id] = (title, spec, units + want.units)
    return found


def receipts(campaign: Campaign, leader: Leader) -> QuerySet[GoodsReceipt]:
    return GoodsReceipt.objects.select_related("sku__product").filter(campaign=campaign, leader=leader)


# --- pickup tickets -------------------------------------------------------------------


def ticket_by_token(token: str) -> PickupTicket:
    ticket = (
        PickupTicket.objects.select_related("order", "sign_up__user", "pickup_point").filter(token=token).first()
        if token
        else None
    )
    if ticket is None:
        raise TicketNotFound(_("取货码无效"))
    return ticket


def member_ticket(user: Any, number: str) -> tuple[SignUp, PickupTicket | None]:
    """The member's own group-buy order and its pickup ticket (None before the goods arrived)."""
    sign_up = (
        SignUp.objects.select_related("campaign", "leader__pickup_point", "order")
        .filter(order__number=number, user_id=getattr(user, "pk", None) or 0)
        .first()
    )
    if sign_up is None:
        raise TicketNotFound(_("订单不存在"))
    return sign_up, PickupTicket.objects.filter(sign_up=sign_up).first()


def point_tickets(leader: Leader, *, status: str | None = None) -> QuerySet[PickupTicket]:
    found = PickupTicket.objects.select_related("sign_up__user", "order", "picked_up_by").filter(
        pickup_point_id=leader.pickup_point_id
    )
    if status:
        found = found.filter(status=status)
    return found


def open_ticket_count(leader: Leader) -> int:
    return point_tickets(leader, status=TicketStatus.OPEN).count()


# --- commission and settlements ---------------------------------------------------------


@dataclass
class CommissionRow:
    sign_up: SignUp
    order: Order
    paid_fen: int
    refunded_fen: int
    base_fen: int
    commission_fen: int
    settled: bool


def commissionable_orders(leader: Leader) -> QuerySet[SignUp]:
    """Campaign orders of the leader's point that completed (the after-sales window passed)."""
    return (
        SignUp.objects.select_related("order", "campaign", "user")
        .filter(leader=leader, order__shop_id=leader.shop_id, order__status=OrderStatus.COMPLETED)
        .order_by("order__completed_at", "id")
    )


def commission_rows(leader: Leader, *, completed: Q | None = None, unsettled_only: bool = False) -> list[CommissionRow]:
    """Commission per completed order: ``commission_rate_bp`` of what the member paid net of
    refunds, rounded half up per order. Fully refunded orders earn nothing and are left out."""
    sign_ups = commissionable_orders(leader)
    if completed is not None:
        sign_ups = sign_ups.filter(completed)
    settled = set(SettlementLine.objects.filter(settlement__leader=leader).values_list("order_id", flat=True))
    rows = []
    for sign_up in sign_ups:
        order = sign_up.order
        base = order.total_fen - order.refunded_fen
        if base <= 0:
            continue
        is_settled = order.pk in settled
        if unsettled_only and is_settled:
            continue
        rows.append(
            CommissionRow(
                sign_up,
                order,
                order.total_fen,
                order.refunded_fen,
                base,
                percent_of(base, leader.commission_rate_bp),
                is_settled,
            )
        )
    return rows


def shop_settlements(shop: Shop) -> QuerySet[Settlement]:
    return Settlement.objects.select_related("leader__pickup_point", "leader__user", "payout").filter(shop=shop)


def access_settlement(shop: Shop, settlement_id: int, *, lock: bool = False) -> Settlement:
    found = Settlement.objects.select_related("leader__pickup_point", "leader__user").filter(
        shop=shop, pk=settlement_id
    )
    if lock:
        found = found.select_for_update(of=("self",))
    settlement = found.first()
    if settlement is None:
        raise SettlementNotFound(_("结算单不存在"))
    return settlement


# --- delivery slots: what to pack for each slot (docs/adr/0007) ------------------------------


@dataclass
class SlotPickRow:
    number: str
    name: str  # masked
    destination: str  # the address, or the pickup point
    title: str
    spec: str
    units: int
    status_label: str


def slot_orders(shop: Shop, slot: DeliverySlot) -> QuerySet[Order]:
    """The slot's orders to pack: paid, or cash on delivery; never closed or cancelled ones."""
    return (
        Order.objects.filter(shop=shop, delivery_slot=slot)
        .exclude(status__in=(OrderStatus.CANCELLED, OrderStatus.CLOSED))
        .filter(Q(paid_at__isnull=False) | Q(payment_method=PaymentMethod.COD))
        .select_related("user", "pickup_point")
        .prefetch_related("lines")
        .order_by("created_at", "id")
    )


def slot_pick_list(shop: Shop, slot: DeliverySlot) -> list[SlotPickRow]:
    """One row per order line of the slot, in the order members bought."""
    rows = []
    for order in slot_orders(shop, slot):
        destination = order.pickup_point.name if order.pickup_point else order.address_text
        for line in order.lines.all():
            rows.append(
                SlotPickRow(
                    order.number,
                    member_name(order.user),
                    destination,
                    line.title,
                    line.spec,
                    line.quantity,
                    order.get_status_display(),
                )
            )
    return rows


def slot_pick_totals(rows: list[SlotPickRow]) -> list[tuple[str, str, int]]:
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for row in rows:
        totals[(row.title, row.spec)] += row.units
    return [(title, spec, units) for (title, spec), units in sorted(totals.items())]
