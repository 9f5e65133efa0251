"""Reads of flash sales; ``access_*`` are scoped to the caller's shop (foreign ids look absent)."""

from typing import Any

from django.db.models import QuerySet

from shequn.shops.models import Shop

from .enums import SaleStatus
from .errors import FlashClaimNotFound, FlashSaleNotFound
from .models import FlashClaim, FlashSale, Reservation

MEMBER_STATUSES = (SaleStatus.SCHEDULED, SaleStatus.RUNNING, SaleStatus.PAUSED, SaleStatus.ENDED)


def shop_sales(shop: Shop) -> QuerySet[FlashSale]:
    return FlashSale.objects.filter(shop=shop).order_by("-created_at", "-id")


def access_sale(shop: Shop, sale_id: int, *, lock: bool = False) -> FlashSale:
    sales = FlashSale.objects.filter(shop=shop, pk=sale_id)
    if lock:
        sales = sales.select_for_update()
    sale = sales.first()
    if sale is None:
        raise FlashSaleNotFound("秒杀活动不存在")
    return sale


def member_sale(sale_id: int) -> FlashSale:
    """A published sale (members see scheduled, running, paused and ended ones)."""
    sale = FlashSale.objects.filter(pk=sale_id, status__in=MEMBER_STATUSES).select_related("shop", "community").first()
    if sale is None:
        raise FlashSaleNotFound("秒杀活动不存在")
    return sale


def open_sales() -> QuerySet[FlashSale]:
    return FlashSale.objects.filter(status__in=(SaleStatus.SCHEDULED, SaleStatus.RUNNING, SaleStatus.PAUSED)).order_by(
        "-created_at", "-id"
    )


def sale_items(sale: FlashSale) -> list[Any]:
    from .models import FlashItem

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
        raise FlashClaimNotFound("抢购记录不存在")
    return claim
