from django import template

from shequn.catalog.selectors import stock_label

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
    skus = [sku for sku in product.skus.all() if sku.is_active]  # type: ignore[attr-defined]
    return min(skus, key=lambda sku: (sku.price_fen, sku.position, sku.pk)) if skus else None
