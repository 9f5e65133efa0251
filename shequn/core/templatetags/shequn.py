from django import template

from shequn.core.money import format_fen
from shequn.core.phone import mask_name, mask_phone

register = template.Library()


@register.filter(name="fen")
def fen_filter(value: int | None) -> str:
    """{{ order.total_fen|fen }} → ¥29.90"""
    return "" if value is None else format_fen(int(value))


@register.filter(name="masked_phone")
def masked_phone_filter(value: str | None) -> str:
    return mask_phone(value or "")


@register.filter(name="masked_name")
def masked_name_filter(value: str | None) -> str:
    return mask_name(value or "")


@register.filter(name="count")
def count_filter(value: int | None) -> str:
    """{{ sale.reservation_count|count }} → 1,938,000 (as Chinese pages write big counts; the zh-hans
    locale's number format has no grouping)."""
    return "" if value is None else f"{int(value):,}"
