"""Share links of a promoter: /r/<code>/?to=<page> for the shop's pages."""

from urllib.parse import urlencode

from django.urls import reverse

from shequn.catalog.kinds import ProductKind
from shequn.catalog.models import Product
from shequn.shops.models import Shop

from .models import Promoter

SHARE_PRODUCTS = 20


def share_path(promoter: Promoter, target: str) -> str:
    """The link a promoter shares for a page of the shop: /r/<code>/?to=<page>."""
    return f"{reverse('distribution:landing', args=[promoter.code])}?{urlencode({'to': target})}"


def shares(promoter: Promoter) -> list[dict[str, str]]:
    """Links for the shop home and its latest goods on the shelf."""
    shop: Shop = promoter.shop
    pages = [("店铺首页", reverse("catalog:shop_home", args=[shop.slug]))]
    products = Product.objects.filter(shop=shop, on_shelf=True, kind=ProductKind.GOODS).order_by("-id")[:SHARE_PRODUCTS]
    pages += [(p.title, reverse("catalog:product_detail", args=[shop.slug, p.pk])) for p in products]
    return [{"title": title, "target": target, "link": share_path(promoter, target)} for title, target in pages]
