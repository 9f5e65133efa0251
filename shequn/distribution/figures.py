"""Figures for the promoter centre and the operator console (reads only)."""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db.models import Count, DateTimeField, Exists, ExpressionWrapper, F, OuterRef, Q, Sum

from shequn.core.phone import mask_name
from shequn.orders.enums import RefundStatus
from shequn.orders.models import Order, RefundRequest
from shequn.shops.models import Shop

from .enums import CommissionStatus, PromoterStatus
from .models import Binding, Commission, Promoter, Visit

SUSPICIOUS_BUYERS_PER_DEVICE = 3
# "Rapid refunds": a promoter's referred lines refunded within RAPID_REFUND_DAYS of payment (the
# buyer asked within that time and the money went back), flagged from RAPID_REFUND_MIN_LINES such
# lines making at least RAPID_REFUND_SHARE of the promoter's referred lines.
RAPID_REFUND_DAYS = 7
RAPID_REFUND_MIN_LINES = 2
RAPID_REFUND_SHARE = 0.5
TOP = 10


@dataclass
class ShopFigures:
    top_promoters: list[dict[str, Any]] = field(default_factory=list)
    commission_fen: int = 0
    referred_sales_fen: int = 0
    shop_sales_fen: int = 0
    tree_depth: int = 0
    tree_breadth: int = 0
    buyers: int = 0
    referred_buyers: int = 0
    k_factor: float = 0.0
    shared_devices: list[dict[str, Any]] = field(default_factory=list)
    rapid_refunds: list[dict[str, Any]] = field(default_factory=list)


def _net(qs: Any) -> int:
    return int(qs.aggregate(s=Sum(F("amount_fen") - F("reversed_fen")))["s"] or 0)


def shop_figures(shop: Shop) -> ShopFigures:
    found = ShopFigures()
    commissions = Commission.objects.filter(shop=shop)
    found.commission_fen = _net(commissions)
    found.referred_sales_fen = int(commissions.filter(tier=1).aggregate(s=Sum("base_fen"))["s"] or 0)
    paid = Order.objects.filter(shop=shop, paid_at__isnull=False)
    found.shop_sales_fen = int(paid.aggregate(s=Sum(F("total_fen") - F("refunded_fen")))["s"] or 0)
    for row in (
        commissions.filter(tier=1)
        .values("promoter_id", "promoter__code", "promoter__user__nickname")
        .annotate(
            sales=Sum("base_fen"),
            earned=Sum(F("amount_fen") - F("reversed_fen")),
            orders=Count("order", distinct=True),
        )
        .order_by("-sales")[:TOP]
    ):
        found.top_promoters.append(
            {
                "code": row["promoter__code"],
                "name": mask_name(row["promoter__user__nickname"] or ""),
                "sales_fen": row["sales"],
                "commission_fen": row["earned"],
                "orders": row["orders"],
            }
        )
    found.tree_depth, found.tree_breadth = referral_tree(shop)
    found.buyers = paid.values("user").distinct().count()
    found.referred_buyers = commissions.filter(tier=1).values("order__user").distinct().count()
    # K-factor: buyers brought in through promoters per buyer of the shop.
    found.k_factor = round(found.referred_buyers / found.buyers, 2) if found.buyers else 0.0
    for device in (
        Visit.objects.filter(shop=shop, visitor__isnull=False)
        .values("device_hash")
        .annotate(people=Count("visitor", distinct=True), promoters=Count("promoter", distinct=True))
        .filter(people__gte=SUSPICIOUS_BUYERS_PER_DEVICE)
        .order_by("-people")[:TOP]
    ):
        found.shared_devices.append({"device": device["device_hash"][:8], "people": device["people"]})
    found.rapid_refunds = rapid_refunds(shop)
    return found


def rapid_refunds(shop: Shop, days: int = RAPID_REFUND_DAYS) -> list[dict[str, Any]]:
    """Promoters whose bound buyers get their money back soon after paying: per promoter, the
    referred (tier-1) lines and those with a refund asked within ``days`` of the order's payment
    and completed; flagged from RAPID_REFUND_MIN_LINES such lines making RAPID_REFUND_SHARE of them.
    A refund asked after the window (a late after-sales case) does not count."""
    window_end = ExpressionWrapper(OuterRef("order__paid_at") + timedelta(days=days), output_field=DateTimeField())
    quick = RefundRequest.objects.filter(
        line=OuterRef("line"), status=RefundStatus.REFUNDED, created_at__lte=window_end
    )
    flagged = []
    for row in (
        Commission.objects.filter(shop=shop, tier=1)
        .annotate(quick=Exists(quick))
        .values("promoter__code")
        .annotate(lines=Count("id"), refunded=Count("id", filter=Q(quick=True)))
        .filter(refunded__gte=RAPID_REFUND_MIN_LINES)
        .order_by("-refunded", "promoter__code")
    ):
        share = row["refunded"] / row["lines"]
        if share >= RAPID_REFUND_SHARE:
            flagged.append(
                {
                    "code": row["promoter__code"],
                    "lines": row["lines"],
                    "refunded": row["refunded"],
                    "share": round(share, 2),
                    "days": days,
                }
            )
    return flagged


def referral_tree(shop: Shop) -> tuple[int, int]:
    """(depth, breadth) of the promoters' binding tree: the longest chain of promoters bound to
    promoters, and the most customers bound to one promoter."""
    parent: dict[int, int] = {}
    promoter_of_user = dict(
        Promoter.objects.filter(shop=shop, status=PromoterStatus.APPROVED).values_list("user_id", "id")
    )
    breadth = 0
    for fan_out in Binding.objects.filter(shop=shop).values("promoter_id").annotate(n=Count("id")):
        breadth = max(breadth, fan_out["n"])
    for customer_id, promoter_id in Binding.objects.filter(shop=shop).values_list("customer_id", "promoter_id"):
        if customer_id in promoter_of_user:
            parent[promoter_of_user[customer_id]] = promoter_id
    depth = 0
    for start in promoter_of_user.values():
        length, node, seen = 1, start, {start}
        while node in parent and parent[node] not in seen:
            node = parent[node]
            seen.add(node)
            length += 1
        depth = max(depth, length)
    return (depth if parent else (1 if promoter_of_user else 0)), breadth


def promoter_figures(promoter: Promoter) -> dict[str, Any]:
    """What a promoter sees: bound customers and team (masked), orders and commission by status."""
    mine = Commission.objects.filter(promoter=promoter)
    customers = list(Binding.objects.filter(promoter=promoter).select_related("customer").order_by("-bound_at")[:50])
    team_user_ids = Promoter.objects.filter(
        shop_id=promoter.shop_id, user_id__in=[b.customer_id for b in customers], status=PromoterStatus.APPROVED
    ).values_list("user_id", flat=True)
    team = [mask_name(str(b.customer)) for b in customers if b.customer_id in set(team_user_ids)]
    return {
        "visits": Visit.objects.filter(promoter=promoter).count(),
        "customers": Binding.objects.filter(promoter=promoter).count(),
        "customer_names": [mask_name(str(b.customer)) for b in customers],
        "team": team,
        "orders": mine.filter(tier=1).values("order").distinct().count(),
        "frozen_commission_fen": _net(mine.filter(status=CommissionStatus.FROZEN)),
        "settled_commission_fen": _net(mine.filter(status=CommissionStatus.SETTLED)),
    }
