"""Which shop an operator API call acts in.

The caller names it with the ``X-Shop`` header (the shop's slug); staff of exactly one
shop may leave it out. A shop the caller is not staff of looks absent (404).
(A candidate for shops/, next to console.py, once that app grows an API helper.)
"""

from typing import Any

from django.http import HttpRequest

from shequn.core.errors import InvalidInput, NotFound
from shequn.shops.models import Shop
from shequn.shops.selectors import require_permission, staff_shops


def api_console_shop(request: HttpRequest, permission: str) -> Shop:
    user: Any = request.user
    shops = staff_shops(user)
    slug = (request.headers.get("X-Shop") or "").strip()
    if slug:
        shop = shops.filter(slug=slug).first()
        if shop is None:
            raise NotFound("店铺不存在", code="shop_not_found")
    else:
        found = list(shops[:2])
        if not found:
            raise NotFound("店铺不存在", code="shop_not_found")
        if len(found) > 1:
            raise InvalidInput("你在多个店铺任职，请用 X-Shop 请求头指定店铺", code="shop_required")
        shop = found[0]
    require_permission(user, shop, permission)
    return shop
