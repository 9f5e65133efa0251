"""Share links of a promoter: /r/<code>/?to=<page> for the shop's pages."""

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _

from shequn.catalog.kinds import ProductKind
from shequn.catalog.models import Product
from shequn.communities.models import Community
from shequn.content.enums import ArticleStatus
from shequn.content.models import Article
from shequn.shops.models import Shop

from .models import Promoter

SHARE_PRODUCTS = 20
SHARE_COMMUNITIES = 10
SHARE_ARTICLES = 10


def share_path(promoter: Promoter, target: str) -> str:
    """The link a promoter shares for a page of the shop: /r/<code>/?to=<page>."""
    return f"{reverse('distribution:landing', args=[promoter.code])}?{urlencode({'to': target})}"


def shares(promoter: Promoter) -> list[dict[str, str]]:
    """Links for the shop home, its latest goods on the shelf, its community posters (join links)
    and its latest published articles (members-only: the content app decides who reads them)."""
    shop: Shop = promoter.shop
    pages = [(_("店铺首页"), reverse("catalog:shop_home", args=[shop.slug]))]
    products = Product.objects.filter(shop=shop, on_shelf=True, kind=ProductKind.GOODS).order_by("-id")[:SHARE_PRODUCTS]
    pages += [(p.title, reverse("catalog:product_detail", args=[shop.slug, p.pk])) for p in products]
    communities = Community.objects.filter(shop=shop, is_active=True).order_by("id")[:SHARE_COMMUNITIES]
    pages += [
        (_("社群海报 · %(name)s") % {"name": c.name}, reverse("communities:join", args=[c.invite_code]))
        for c in communities
    ]
    articles = Article.objects.filter(shop=shop, status=ArticleStatus.PUBLISHED, community__is_active=True).order_by(
        "-published_at", "-id"
    )[:SHARE_ARTICLES]
    pages += [
        (_("文章 · %(title)s") % {"title": a.title}, reverse("content:article_detail", args=[a.community_id, a.pk]))
        for a in articles
    ]
    return [{"title": title, "target": target, "link": share_path(promoter, target)} for title, target in pages]
