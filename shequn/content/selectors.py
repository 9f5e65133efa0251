"""Reads for community content. Console reads go through ``access_*(shop, id)`` scoped to the
shop; member reads check membership: a members-only article of a community the caller does
not belong to looks absent (404), never forbidden."""

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from shequn.catalog.models import Product, Sku
from shequn.communities import selectors as community_selectors
from shequn.communities.models import Community
from shequn.core.errors import NotFound
from shequn.shops.models import Shop

from .enums import DEFAULT_PUSHES_PER_DAY, DEFAULT_REPLY_TEXT, ArticleStatus
from .errors import ArticleNotFound, ContentNotFound, KeywordRuleNotFound, PushJobNotFound
from .models import Article, ArticleProduct, ContentSettings, KeywordRule, PushJob

CONTENT_NOT_FOUND = gettext_noop("内容不存在或仅社群成员可见")
ARTICLE_NOT_FOUND = gettext_noop("文章不存在或仅社群成员可见")


def _with_cards(articles: QuerySet[Article]) -> QuerySet[Article]:
    cards = ArticleProduct.objects.select_related("product", "product__shop").prefetch_related(
        Prefetch("product__skus", queryset=Sku.objects.filter(is_active=True).order_by("position", "id"))
    )
    return articles.select_related("community", "shop").prefetch_related(
        Prefetch("cards", queryset=cards.order_by("position", "id"), to_attr="product_cards")
    )


# --- members -----------------------------------------------------------------------


def access_member_content(user: Any, community_id: int) -> Community:
    """The community whose content ``user`` may read: an active community they actively belong to."""
    try:
        community = community_selectors.active_community(community_id)
    except NotFound:
        raise ContentNotFound(_(CONTENT_NOT_FOUND)) from None
    if not community_selectors.is_community_member(user, community):
        raise ContentNotFound(_(CONTENT_NOT_FOUND))
    return community


def member_articles(community: Community) -> QuerySet[Article]:
    return Article.objects.filter(community=community, status=ArticleStatus.PUBLISHED).order_by("-published_at", "-id")


def access_member_article(user: Any, community_id: int, article_id: int) -> Article:
    """A published article; members-only ones (the default) look absent to non-members."""
    article = (
        _with_cards(Article.objects.filter(pk=article_id, community_id=community_id, status=ArticleStatus.PUBLISHED))
        .filter(community__is_active=True)
        .first()
    )
    if article is None:
        raise ArticleNotFound(_(ARTICLE_NOT_FOUND))
    if article.members_only and not community_selectors.is_community_member(user, article.community):
        raise ArticleNotFound(_(ARTICLE_NOT_FOUND))
    return article


def keyword_rules(community: Community) -> list[KeywordRule]:
    return list(KeywordRule.objects.filter(community=community, is_active=True).select_related("reply_article"))


def content_settings(community: Community) -> ContentSettings:
    """The community's settings row, or unsaved defaults."""
    found = ContentSettings.objects.filter(community=community).first()
    return found or ContentSettings(
        community=community, max_pushes_per_day=DEFAULT_PUSHES_PER_DAY, default_reply=_(DEFAULT_REPLY_TEXT)
    )


# --- console (staff of one shop) ---------------------------------------------------


def access_community(shop: Shop, community_id: int) -> Community:
    return community_selectors.access_community(shop, community_id)


def shop_communities(shop: Shop) -> QuerySet[Community]:
    return Community.objects.filter(shop=shop).order_by("-is_active", "id")


def community_articles(community: Community) -> QuerySet[Article]:
    return Article.objects.filter(community=community).order_by("-created_at", "-id")


def shop_articles(shop: Shop) -> QuerySet[Article]:
    return Article.objects.filter(shop=shop).select_related("community").order_by("-created_at", "-id")


def access_article(shop: Shop, article_id: int) -> Article:
    article = _with_cards(Article.objects.filter(shop=shop, pk=article_id)).first()
    if article is None:
        raise ArticleNotFound(_("文章不存在"))
    return article


def calendar_articles(shop: Shop, year: int, month: int) -> QuerySet[Article]:
    """Articles whose publish date (published, else scheduled) falls in the local month."""
    tz = timezone.get_current_timezone()
    start = datetime.combine(date(year, month, 1), time.min, tzinfo=tz)
    end_day = date(year + (month == 12), month % 12 + 1, 1)
    end = datetime.combine(end_day, time.min, tzinfo=tz)
    published = Article.objects.filter(shop=shop, published_at__gte=start, published_at__lt=end)
    scheduled = Article.objects.filter(
        shop=shop, status=ArticleStatus.SCHEDULED, publish_at__gte=start, publish_at__lt=end
    )
    return (published | scheduled).select_related("community").order_by("published_at", "publish_at", "id")


def calendar_day(article: Article) -> date:
    moment = article.published_at or article.publish_at or article.created_at
    return timezone.localdate(moment)


def month_days(year: int, month: int) -> list[date]:
    first = date(year, month, 1)
    days = []
    day = first
    while day.month == month:
        days.append(day)
        day += timedelta(days=1)
    return days


def shop_push_jobs(shop: Shop) -> QuerySet[PushJob]:
    return PushJob.objects.filter(shop=shop).select_related("article", "community").order_by("-created_at", "-id")


def access_push_job(shop: Shop, job_id: int) -> PushJob:
    job = shop_push_jobs(shop).filter(pk=job_id).first()
    if job is None:
        raise PushJobNotFound(_("推送任务不存在"))
    return job


def community_keyword_rules(community: Community) -> QuerySet[KeywordRule]:
    return KeywordRule.objects.filter(community=community).select_related("reply_article").order_by("id")


def access_keyword_rule(shop: Shop, rule_id: int) -> KeywordRule:
    rule = KeywordRule.objects.filter(shop=shop, pk=rule_id).select_related("community", "reply_article").first()
    if rule is None:
        raise KeywordRuleNotFound(_("关键词规则不存在"))
    return rule


def card_price_fen(card: ArticleProduct) -> int | None:
    """The lowest active SKU price of a card's product (the skus are prefetched)."""
    prices = [sku.price_fen for sku in card.product.skus.all()]
    return min(prices) if prices else None


def buy_url(product: Product, article_id: int) -> str:
    """The product page, tagged with the article the member came from.

    The ``article`` query parameter is how an order placed from this card will record the
    article; the order side (catalog/orders) reads it in a separate change, not here.
    """
    return f"{reverse('catalog:product_detail', args=[product.shop.slug, product.pk])}?article={article_id}"
