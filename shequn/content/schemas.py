"""API shapes of community content."""

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from shequn.core.schemas import Count, Id, Moment, MultilineText, Text

from .enums import ArticleStatus, MatchType
from .selectors import buy_url, card_price_fen


class CalendarQuery(Schema):
    year: int = Field(..., ge=2000, le=2100)
    month: int = Field(..., ge=1, le=12)


class ArticleProductCardOut(Schema):
    product_id: int
    title: str
    price_fen: int | None
    buy_url: str  # the product page with ?article=<id> (order-side attribution)

    @staticmethod
    def from_card(card: Any, article_id: int) -> "ArticleProductCardOut":
        return ArticleProductCardOut(
            product_id=card.product_id,
            title=card.product.title,
            price_fen=card_price_fen(card),
            buy_url=buy_url(card.product, article_id),
        )


class ArticleSummaryOut(Schema):
    id: int
    community_id: int
    title: str
    status: str
    publish_at: datetime | None
    published_at: datetime | None
    push_enabled: bool
    members_only: bool


class ArticleOut(ArticleSummaryOut):
    body_html: str  # sanitised on save
    cover_url: str | None
    audio_url: str | None
    audio_duration_seconds: int | None
    audio_duration: str  # mm:ss
    products: list[ArticleProductCardOut]

    @staticmethod
    def from_model(article: Any) -> "ArticleOut":
        return ArticleOut(
            id=article.pk,
            community_id=article.community_id,
            title=article.title,
            status=article.status,
            publish_at=article.publish_at,
            published_at=article.published_at,
            push_enabled=article.push_enabled,
            members_only=article.members_only,
            body_html=article.body,
            cover_url=article.cover.url if article.cover else None,
            audio_url=article.audio.url if article.audio else None,
            audio_duration_seconds=article.audio_duration_seconds,
            audio_duration=article.audio_duration_display,
            products=[
                ArticleProductCardOut.from_card(card, article.pk) for card in getattr(article, "product_cards", [])
            ],
        )


class ArticleIn(Schema):
    title: Text = Field(..., max_length=100)
    body: MultilineText = Field("", max_length=100_000)  # HTML; sanitised on save
    status: ArticleStatus = ArticleStatus.DRAFT
    publish_at: Moment | None = None
    push_enabled: bool = False
    members_only: bool = True
    product_ids: list[Id] = Field(default_factory=list, max_length=50)
    audio_duration_seconds: Count | None = None


class AskIn(Schema):
    text: MultilineText = Field(..., min_length=1, max_length=100)


class ReplyOut(Schema):
    matched: bool
    text: str
    article: ArticleSummaryOut | None
    article_url: str | None


class PushJobOut(Schema):
    id: int
    article_id: int
    community_id: int
    status: str
    total: int
    sent: int
    skipped_by_cap: int
    progress_percent: int
    created_at: datetime
    finished_at: datetime | None


class KeywordRuleIn(Schema):
    keyword: Text = Field(..., max_length=50)
    match_type: MatchType = MatchType.EXACT
    reply_article_id: Id | None = None
    reply_text: MultilineText = Field("", max_length=500)
    is_active: bool = True


class KeywordRuleOut(Schema):
    id: int
    community_id: int
    keyword: str
    match_type: str
    reply_article_id: int | None
    reply_text: str
    is_active: bool


class ContentSettingsIn(Schema):
    max_pushes_per_day: int = Field(..., ge=0, le=10)
    default_reply: MultilineText = Field(..., min_length=1, max_length=500)


class ContentSettingsOut(Schema):
    community_id: int
    max_pushes_per_day: int
    default_reply: str
