from datetime import datetime

from ninja import Schema


class SalesOut(Schema):
    orders: int
    buyers: int
    gross_fen: int
    refunded_fen: int
    net_fen: int


class AnalyticsChannelJoinsOut(Schema):
    channel_id: int | None  # None: joined without a channel code
    name: str
    joins: int


class ArticleSalesOut(Schema):
    article_id: int
    title: str
    orders: int
    net_fen: int


class CommunityFiguresOut(Schema):
    community_id: int
    days: int
    since: datetime
    members: int
    former_members: int
    joins: int
    joins_by_channel: list[AnalyticsChannelJoinsOut]
    active_members: int
    sales: SalesOut  # goods bought from the community's posts and articles
    from_posts: SalesOut
    from_articles: SalesOut
    fees: SalesOut  # membership fees and renewals
    top_articles: list[ArticleSalesOut]
