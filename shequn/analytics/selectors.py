"""Per-community figures for the console: members, joins by channel, active members, sales.

Every figure is one aggregate query over the community's rows (no loop over members), so a
community of 100,000 members costs the same handful of queries as one of ten.

Definitions (shown on the page too):
- members: active memberships now (expired paid members count as former, see communities);
- joins: memberships created in the period, by the channel (渠道码) they came through;
- active members: members who, in the period, paid for an order bought from the community
  (its posts or articles) or wrote a thread or comment on its board;
- sales: orders bought from the community's posts and articles and paid in the period, net
  of refunds; membership fees are counted apart.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.board.models import Comment, Thread
from shequn.catalog.kinds import ProductKind
from shequn.communities.enums import MemberStatus
from shequn.communities.models import Community, CommunityMembership
from shequn.core.errors import InvalidInput, NotFound
from shequn.orders.models import Order
from shequn.shops.models import Shop

PERIODS = (7, 30, 90)


@dataclass(frozen=True)
class ChannelJoins:
    channel_id: int | None
    name: str
    joins: int


@dataclass(frozen=True)
class ArticleSales:
    article_id: int
    title: str
    orders: int
    net_fen: int


@dataclass(frozen=True)
class Sales:
    orders: int
    buyers: int
    gross_fen: int
    refunded_fen: int

    @property
    def net_fen(self) -> int:
        return self.gross_fen - self.refunded_fen


@dataclass(frozen=True)
class CommunityFigures:
    community: Community
    days: int
    since: datetime
    members: int
    former_members: int
    joins: int
    joins_by_channel: list[ChannelJoins]
    active_members: int
    sales: Sales
    from_posts: Sales
    from_articles: Sales
    fees: Sales
    top_articles: list[ArticleSales]


def access_community(shop: Shop, community_id: int) -> Community:
    community = Community.objects.filter(shop=shop, pk=community_id).first()
    if community is None:
        raise NotFound(_("社群不存在"), code="community_not_found")
    return community


def check_days(days: int | None) -> int:
    if days is None:
        return 30
    if days not in PERIODS:
        raise InvalidInput(
            _("统计周期只能是 7、30 或 90 天"), code="period_invalid", details={"allowed": list(PERIODS)}
        )
    return days


def _sales(orders: QuerySet[Order]) -> Sales:
    totals = orders.aggregate(
        count=Count("pk"), buyers=Count("user", distinct=True), gross=Sum("total_fen"), refunded=Sum("refunded_fen")
    )
    return Sales(
        orders=totals["count"], buyers=totals["buyers"], gross_fen=totals["gross"] or 0,
        refunded_fen=totals["refunded"] or 0,
    )  # fmt: skip


def _paid_since(since: datetime) -> Q:
    return Q(paid_at__gte=since, paid_at__isnull=False)


def community_figures(community: Community, days: int = 30, *, now: datetime | None = None) -> CommunityFigures:
    now = now or timezone.now()
    since = now - timedelta(days=days)
    memberships = CommunityMembership.objects.filter(community=community)
    counts = memberships.aggregate(
        active=Count("pk", filter=Q(status=MemberStatus.ACTIVE) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))),
        former=Count("pk", filter=Q(status=MemberStatus.FORMER) | Q(status=MemberStatus.ACTIVE, expires_at__lte=now)),
        joins=Count("pk", filter=Q(joined_at__gte=since)),
    )
    by_channel = (
        memberships.filter(joined_at__gte=since)
        .values("channel_id", "channel__name")
        .annotate(joins=Count("pk"))
        .order_by("-joins", F("channel_id").asc(nulls_last=True))
    )
    goods = Order.objects.filter(community=community, kind=ProductKind.GOODS).filter(_paid_since(since))
    fee_orders = Order.objects.none()
    if community.fee_product_id:
        fee_orders = Order.objects.filter(lines__product_id=community.fee_product_id).filter(_paid_since(since))
    threads = Thread.objects.filter(community=community, created_at__gte=since)
    comments = Comment.objects.filter(thread__community=community, created_at__gte=since)
    active = memberships.filter(
        Q(user_id__in=goods.values("user_id"))
        | Q(user_id__in=threads.values("author_id"))
        | Q(user_id__in=comments.values("author_id")),
        status=MemberStatus.ACTIVE,
    ).count()
    top = (
        goods.filter(article__isnull=False)
        .values("article_id", "article__title")
        .annotate(orders=Count("pk"), gross=Sum("total_fen"), refunded=Sum("refunded_fen"))
        .order_by("-gross", "article_id")[:5]
    )
    return CommunityFigures(
        community=community,
        days=days,
        since=since,
        members=counts["active"],
        former_members=counts["former"],
        joins=counts["joins"],
        joins_by_channel=[
            ChannelJoins(row["channel_id"], row["channel__name"] or _("未使用渠道码"), row["joins"])
            for row in by_channel
        ],
        active_members=active,
        sales=_sales(goods),
        from_posts=_sales(goods.filter(post__isnull=False)),
        from_articles=_sales(goods.filter(article__isnull=False)),
        fees=_sales(fee_orders),
        top_articles=[
            ArticleSales(row["article_id"], row["article__title"], row["orders"], row["gross"] - row["refunded"])
            for row in top
        ],
    )
