"""Reads of flash sales; ``access_*`` are scoped to the caller's shop (foreign ids look absent)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.gate.base import PoolState
from shequn.gate.engine import get_gate
from shequn.shops.models import Shop

from .enums import ClaimStatus, SaleStatus
from .errors import FlashClaimNotFound, FlashSaleNotFound
from .models import FlashClaim, FlashItem, FlashSale, FlashSession, Reservation, pool_key

MEMBER_STATUSES = (SaleStatus.SCHEDULED, SaleStatus.RUNNING, SaleStatus.PAUSED, SaleStatus.ENDED)


def shop_sales(shop: Shop) -> QuerySet[FlashSale]:
    return FlashSale.objects.filter(shop=shop).order_by("-created_at", "-id")


def access_sale(shop: Shop, sale_id: int, *, lock: bool = False) -> FlashSale:
    sales = FlashSale.objects.filter(shop=shop, pk=sale_id)
    if lock:
        sales = sales.select_for_update()
    sale = sales.first()
    if sale is None:
        raise FlashSaleNotFound(_("秒杀活动不存在"))
    return sale


def member_sale(sale_id: int) -> FlashSale:
    """A published sale (members see scheduled, running, paused and ended ones)."""
    sale = FlashSale.objects.filter(pk=sale_id, status__in=MEMBER_STATUSES).select_related("shop", "community").first()
    if sale is None:
        raise FlashSaleNotFound(_("秒杀活动不存在"))
    return sale


def open_sales() -> QuerySet[FlashSale]:
    return FlashSale.objects.filter(status__in=(SaleStatus.SCHEDULED, SaleStatus.RUNNING, SaleStatus.PAUSED)).order_by(
        "-created_at", "-id"
    )


def sale_items(sale: FlashSale) -> list[FlashItem]:
    return list(
        FlashItem.objects.filter(session__sale=sale)
        .select_related("session", "sku__product")
        .order_by("session__starts_at", "position", "pk")
    )


def has_reserved(user: Any, sale: FlashSale) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return Reservation.objects.filter(sale=sale, user=user).exists()


def my_claims(user: Any, sale: FlashSale) -> QuerySet[FlashClaim]:
    return FlashClaim.objects.filter(user=user, item__session__sale=sale).select_related("order", "item__sku__product")


def access_my_claim(user: Any, claim_id: str) -> FlashClaim:
    claim = (
        FlashClaim.objects.filter(user=user)
        .filter(claim_id=claim_id)
        .select_related("order", "item__session__sale", "item__sku__product")
        .first()
    )
    if claim is None:
        raise FlashClaimNotFound(_("抢购记录不存在"))
    return claim


def attempts_seen(item_id: int) -> int:
    """Attempts counted by the buy path (in the cache: no SQL on the hot path)."""
    return int(cache.get(f"flash:attempts:{item_id}") or 0)


@dataclass(frozen=True)
class ItemTruth:
    item_id: int
    quantity: int
    at_gate: int  # units left at the gate (PoolState.units_left)
    admitted: int  # claims written, no order yet
    unpaid: int  # units of unpaid orders
    paid: int  # units of paid orders
    released: int  # units given back (no order, or the unpaid order closed)
    returning: int  # of those, units on their way back: the gate that holds the pool has not taken them yet
    gate_ready: bool

    @property
    def accounted(self) -> int:
        return self.at_gate + self.admitted + self.unpaid + self.paid + self.returning

    @property
    def difference(self) -> int:
        """0 when the identity holds; positive: units the gate lost (undersell); negative: oversold."""
        return self.quantity - self.accounted

    @property
    def ok(self) -> bool:
        return self.gate_ready and self.difference == 0


def reconcile(item: FlashItem, state: PoolState | None = None) -> ItemTruth:
    """units at the gate + claims admitted not yet ordered + unpaid orders + paid orders + released
    units not yet back at the gate == quantity.

    Claims still in the gate's stream (admitted, not yet read by the consumer) show as a positive
    difference until the consumer writes them."""
    state = state or get_gate().state(pool_key(item.pk))
    sums: dict[str, int] = defaultdict(int)
    rows = FlashClaim.objects.filter(item=item).values_list("status", "quantity", "order__paid_at", "returned_to_gate")
    for status, quantity, paid_at, returned in rows:
        if status == ClaimStatus.ADMITTED:
            sums["admitted"] += quantity
        elif status == ClaimStatus.ORDERED:
            sums["paid" if paid_at is not None else "unpaid"] += quantity
        else:
            sums["released"] += quantity
            sums["returning"] += 0 if returned else quantity
    return ItemTruth(
        item_id=item.pk,
        quantity=item.quantity,
        at_gate=state.units_left,
        admitted=sums["admitted"],
        unpaid=sums["unpaid"],
        paid=sums["paid"],
        released=sums["released"],
        returning=sums["returning"],
        gate_ready=state.ready,
    )


@dataclass(frozen=True)
class SaleCounters:
    reservations: int
    attempts: int
    admitted: int  # units the gate admitted that the consumer has written (any status since)
    paid: int
    released: int
    left: int  # units left at the gate
    items: list[tuple[FlashItem, ItemTruth]]

    @property
    def ok(self) -> bool:
        return all(truth.ok for _, truth in self.items)


def sale_counters(sale: FlashSale) -> SaleCounters:
    """The console's live figures (and the API's): one reconcile per item."""
    rows = [(item, reconcile(item)) for item in sale_items(sale)]
    return SaleCounters(
        reservations=FlashSale.objects.values_list("reservation_count", flat=True).get(pk=sale.pk),
        attempts=sum(attempts_seen(item.pk) for item, _ in rows),
        admitted=sum(t.admitted + t.unpaid + t.paid + t.released for _, t in rows),
        paid=sum(t.paid for _, t in rows),
        released=sum(t.released for _, t in rows),
        left=sum(t.at_gate for _, t in rows),
        items=rows,
    )


@dataclass(frozen=True)
class MemberItem:
    item: FlashItem
    left: int | None  # units left at the gate (None: the gate does not know the pool now)
    ticket: str | None = None  # the member's gate ticket for the buy button (issued by the page's view)


@dataclass(frozen=True)
class MemberView:
    """What a member's sale page (and the API) shows: the phase, the countdown's target, the items."""

    sale: FlashSale
    phase: str  # "upcoming" (reservations, countdown), "open", "between" (next session later), "ended"
    session: FlashSession | None  # the session open now, or the next one
    countdown_to: datetime | None  # the next moment that changes the phase
    priority_until: datetime | None
    reserved: bool
    items: list[MemberItem]
    claims: list[FlashClaim]


def member_view(sale: FlashSale, user: Any, *, now: datetime | None = None) -> MemberView:
    now = now or timezone.now()
    sessions = list(sale.sessions.all())
    current = next((s for s in sessions if s.starts_at <= now < s.ends_at), None)
    upcoming = next((s for s in sessions if s.starts_at > now), None)
    if sale.status == SaleStatus.ENDED or (current is None and upcoming is None):
        phase, session, countdown = "ended", None, None
    elif current is not None:
        phase, session, countdown = "open", current, current.ends_at
    else:
        assert upcoming is not None
        phase = "upcoming" if upcoming is sessions[0] else "between"
        session, countdown = upcoming, upcoming.starts_at
    priority_until = None
    if session is not None and sale.priority_minutes:
        priority_until = session.starts_at + timedelta(minutes=sale.priority_minutes)
    gate = get_gate()
    items = []
    if session is not None:
        for item in FlashItem.objects.filter(session=session).select_related("sku__product").order_by("position", "pk"):
            state = gate.state(pool_key(item.pk))
            items.append(MemberItem(item=item, left=state.units_left if state.ready else None))
    claims = list(my_claims(user, sale).order_by("-pk")[:10]) if getattr(user, "is_authenticated", False) else []
    return MemberView(
        sale=sale,
        phase=phase,
        session=session,
        countdown_to=countdown,
        priority_until=priority_until,
        reserved=has_reserved(user, sale),
        items=items,
        claims=claims,
    )
