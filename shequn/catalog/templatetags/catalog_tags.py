from django import template
from django.utils.translation import gettext as _

from shequn.catalog.selectors import lowest_price_sku, stock_label
from shequn.catalog.weights import (
    CHECKOUT_PROMISE,
    PROMISE,
    UNIT_GRAMS,
    UNIT_NAMES,
    LineWeight,
    SkuPricing,
    format_grams,
    is_weighed,
    line_weight,
)
from shequn.core.money import format_fen

register = template.Library()


@register.filter(name="stock_label")
def stock_label_filter(stock: int | None) -> str:
    """{{ sku.stock|stock_label }} → 有货 / 仅剩3件 / 已售罄"""
    return stock_label(int(stock or 0))


@register.filter(name="cover")
def cover_filter(product: object) -> object:
    """The first image of a product (prefetched), or None."""
    images = list(product.images.all())  # type: ignore[attr-defined]
    return images[0] if images else None


@register.filter(name="from_price")
def from_price_filter(product: object) -> object:
    """The cheapest active SKU of a product (prefetched), or None."""
    return lowest_price_sku(product)  # type: ignore[arg-type]


@register.filter(name="weight_pricing")
def weight_pricing_filter(sku: object) -> str:
    """{{ sku|weight_pricing }} → "¥35.00/斤 · 约 1.2 斤/条 · 按实重多退少不补"; "" when priced per piece."""
    pricing = getattr(sku, "pricing", SkuPricing.PIECE)
    if not is_weighed(pricing):
        return ""
    unit = UNIT_GRAMS[pricing]
    rate = format_fen(sku.weight_price_fen)  # type: ignore[attr-defined]
    piece = sku.piece_name or _("件")  # type: ignore[attr-defined]
    estimate = format_grams(sku.weight_grams, unit)  # type: ignore[attr-defined]
    return _("%(rate)s/%(value)s · 约 %(estimate)s/%(piece)s · %(promise)s") % {
        "rate": rate,
        "value": UNIT_NAMES[unit],
        "estimate": estimate,
        "piece": piece,
        "promise": PROMISE,
    }


@register.filter(name="line_weight")
def line_weight_filter(line: object) -> LineWeight | None:
    """{% with weight=line|line_weight %}: an order line's estimated and actual weight, or None."""
    return line_weight(line)


@register.filter(name="weight_estimate")
def weight_estimate_filter(sku: object, estimated_fen: int) -> str:
    """{{ line.sku|weight_estimate:line.total_fen }} → "预估 ¥42.00，按实际重量多退少不补" ("" per piece)."""
    if not is_weighed(getattr(sku, "pricing", SkuPricing.PIECE)):
        return ""
    return _("预估 %(amount)s，%(checkout_promise)s") % {
        "amount": format_fen(int(estimated_fen)),
        "checkout_promise": CHECKOUT_PROMISE,
    }
