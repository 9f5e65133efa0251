"""Reads for communities. Console reads go through ``access_*(shop, id)`` scoped to the shop;
member reads check membership (a feed is for members only)."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Coalesce
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _

from shequn.catalog.models import Sku
from shequn.catalog.selectors import attach_shelf_details
from shequn.core.errors import NotFound, PermissionDenied
from shequn.shops.models import Shop

from .enums import ExpiryFilter, JoinPolicy, JoinRequestStatus, MemberStatus
from .models import (
    Channel,
    Community,
    CommunityMembership,
    JoinRequest,
    MemberCount,
    MembershipTerm,
    Post,
    PostProduct,
    RecruitmentWindow,
    SubGroup,
    Tag,
)


def current_q(prefix: str = "", now: datetime | None = None) -> Q:
    """Current members: status active and not past their expiry (compared with the clock at query
    time, so access ends exactly at ``expires_at`` even before the sweeper marks the row former)."""
    return Q(**{f"{prefix}status": MemberStatus.ACTIVE}) & (
        Q(**{f"{prefix}expires_at__isnull": True}) | Q(**{f"{prefix}expires_at__gt": now or timezone.now()})
    )


def is_current(membership: CommunityMembership | None, now: datetime | None = None) -> bool:
    """The same rule as ``current_q`` for a row already in hand."""
    if membership is None or membership.status != MemberStatus.ACTIVE:
        return False
    return membership.expires_at is None or membership.expires_at > (now or timezone.now())


def active_member_count(community: str = "pk") -> CombinedExpression:
    """Current members only: removed, banned, former and expired members keep their rows but do not count.

    Constant time, whatever the size of the community: the active memberships counted by the
    database (``MemberCount``), less those past their expiry the sweeper has not marked former yet
    (a range of the (community, status, expires_at) index, empty once the sweep has run).
    ``community`` names the outer query's community id (``pk`` on communities)."""
    active = MemberCount.objects.filter(community=OuterRef(community)).values("active")
    unswept = (
        CommunityMembership.objects.filter(
            community=OuterRef(community), status=MemberStatus.ACTIVE, expires_at__lte=timezone.now()
        )
        .order_by()
        .values("community")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(active, output_field=IntegerField()), 0) - Coalesce(
        Subquery(unswept, output_field=IntegerField()), 0
    )


def is_shop_member(user: Any, shop: Shop) -> bool:
    """Whether ``user`` belongs to any active community of ``shop`` (member prices apply)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return CommunityMembership.objects.filter(
        current_q(), user=user, community__shop=shop, community__is_active=True
    ).exists()


def shop_member_pairs(pairs: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    """``is_shop_member`` for many (user id, shop id) pairs in one query: the pairs that are members."""
    wanted = set(pairs)
    found = CommunityMembership.objects.filter(
        current_q(),
        user_id__in={user_id for user_id, _ in wanted},
        community__shop_id__in={shop_id for _, shop_id in wanted},
        community__is_active=True,
    ).values_list("user_id", "community__shop_id")
    return wanted & set(found)


def is_community_member(user: Any, community: Community) -> bool:
    """Whether ``user`` is a *current* member: active and not expired (removed, banned, former
    and expired members are not). Every members-only check in every app goes through here."""
    if not getattr(user, "is_authenticated", False):
        return False
    return CommunityMembership.objects.filter(current_q(), user=user, community=community).exists()


def is_muted(user: Any, community: Community) -> bool:
    """Whether ``user`` is a current member of ``community`` muted until a time still to come."""
    if not getattr(user, "is_authenticated", False):
        return False
    return CommunityMembership.objects.filter(
        current_q(), user=user, community=community, muted_until__gt=timezone.now()
    ).exists()


def is_banned(user: Any, community: Community) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return CommunityMembership.objects.filter(user=user, community=community, status=MemberStatus.BANNED).exists()


class NotAMember(PermissionDenied):
    """Members-only content is invisible to everyone else (ADR 0002): a 404, like a missing id."""

    status = 404
    code = "not_a_member"


# --- members -----------------------------------------------------------------------


def community_by_invite_code(invite_code: str) -> Community:
    community = (
        Community.objects.select_related("shop")
        .filter(invite_code=invite_code, is_active=True)
        .annotate(member_count=active_member_count())
        .first()
    )
    if community is None:
        raise NotFound(_("邀请链接无效或已失效，请向群主索取新的链接"), code="invite_not_found")
    return community


def inviter_in(community: Community, user_id: int | None) -> Any:
    """The member of ``community`` with ``user_id`` (who shared an invite link), or None."""
    if not user_id:
        return None
    membership = CommunityMembership.objects.select_related("user").filter(community=community, user_id=user_id).first()
    return membership.user if membership else None


def active_community(community_id: int) -> Community:
    """Any active community (for its name on the join page); members-only data is checked separately."""
    community = (
        Community.objects.select_related("shop")
        .filter(pk=community_id, is_active=True)
        .annotate(member_count=active_member_count())
        .first()
    )
    if community is None:
        raise NotFound(_("社群不存在"), code="community_not_found")
    return community


def access_member_community(user: Any, community_id: int) -> Community:
    """An active community the user currently belongs to (the rule of ``is_community_member``),
    with ``member_count`` and the caller's membership as ``viewer_membership``, read in one query;
    NotAMember (403) for others, NotFound when there is no such active community."""
    membership = None
    if getattr(user, "is_authenticated", False):
        membership = (
            CommunityMembership.objects.select_related("community__shop", "sub_group")
            .filter(current_q(), user=user, community_id=community_id, community__is_active=True)
            .annotate(community_member_count=active_member_count("community_id"))
            .first()
        )
    if membership is None:
        active_community(community_id)  # NotFound when the community itself is missing
        raise NotAMember(_("仅社群成员可以查看，请通过邀请链接加入"), code="not_a_member")
    community = membership.community
    community.member_count = membership.community_member_count  # type: ignore[attr-defined]
    community.viewer_membership = membership  # type: ignore[attr-defined]
    return community


def my_communities(user: Any) -> QuerySet[Community]:
    if not getattr(user, "is_authenticated", False):
        return Community.objects.none()
    return (
        Community.objects.select_related("shop")
        .filter(
            pk__in=CommunityMembership.objects.filter(current_q(), user=user).values("community_id"),
            is_active=True,
        )
        .annotate(member_count=active_member_count())
        .order_by("-id")
    )


def attach_post_cards(shop: Shop, posts: Iterable[Post]) -> list[Post]:
    """The posts (of ``shop``), each with ``cards``: its product cards in order, each card's product
    given what a card shows by ``catalog.selectors.attach_shelf_details`` (cheapest active SKU,
    cover, link: the shop front's rule). Three queries for a page of posts."""
    found = list(posts)
    cards: dict[int, list[PostProduct]] = {post.pk: [] for post in found}
    for card in PostProduct.objects.filter(post__in=found).select_related("product").order_by("position", "id"):
        cards[card.post_id].append(card)
    for post in found:
        post.cards = cards[post.pk]  # type: ignore[attr-defined]
    attach_shelf_details(shop, [card.product for post_cards in cards.values() for card in post_cards])
    return found


def community_feed(community: Community) -> QuerySet[Post]:
    """The published posts, newest first (pinned on top); their cards, once the page is cut:
    ``attach_post_cards``."""
    return (
        Post.objects.filter(community=community, is_published=True)
        .select_related("author")
        .order_by("-is_pinned", "-created_at", "-id")
    )


def access_member_post(user: Any, community_id: int, post_id: int) -> Post:
    community = access_member_community(user, community_id)
    post = Post.objects.filter(community=community, pk=post_id, is_published=True).select_related("author").first()
    if post is None:
        raise NotFound(_("帖子不存在或已撤回"), code="post_not_found")
    post.community = community
    return attach_post_cards(community.shop, [post])[0]


# --- console (staff of one shop) ---------------------------------------------------


def shop_communities(shop: Shop) -> QuerySet[Community]:
    return (
        Community.objects.filter(shop=shop)
        .annotate(
            member_count=active_member_count(),
            post_count=Count("posts", filter=Q(posts__is_published=True), distinct=True),
        )
        .order_by("-is_active", "id")
    )


def access_community(shop: Shop, community_id: int) -> Community:
    community = Community.objects.select_related("shop").filter(shop=shop, pk=community_id).first()
    if community is None:
        raise NotFound(_("社群不存在"), code="community_not_found")
    return community


def access_post(shop: Shop, post_id: int) -> Post:
    post = Post.objects.filter(shop=shop, pk=post_id).select_related("author").first()
    if post is None:
        raise NotFound(_("帖子不存在"), code="post_not_found")
    return attach_post_cards(shop, [post])[0]


def community_posts(community: Community) -> QuerySet[Post]:
    """Every post, published or not (the console's view); their cards: ``attach_post_cards``."""
    posts = Post.objects.filter(community=community).select_related("author")
    return posts.order_by("-is_pinned", "-created_at", "-id")


def community_members(
    community: Community,
    *,
    status: str | None = None,
    tag_id: int | None = None,
    channel_id: int | None = None,
    sub_group_id: int | None = None,
    expiry: str | None = None,
    within_days: int | None = None,
) -> QuerySet[CommunityMembership]:
    """Members of ``community``, optionally filtered by status, tag, join channel, sub-group or expiry.

    ``channel_id=0`` means joined without a channel. ``expiry="expiring"`` keeps current members
    whose membership ends within ``within_days`` (default 7); ``expiry="expired"`` keeps those
    whose expiry has passed (former, or active rows the sweeper has not reached yet).
    """
    members = CommunityMembership.objects.filter(community=community)
    if status:
        members = members.filter(status=status)
    if expiry == ExpiryFilter.EXPIRING:
        horizon = timezone.now() + timedelta(days=max(0, within_days if within_days is not None else 7))
        members = members.filter(current_q(), expires_at__lte=horizon)
    elif expiry == ExpiryFilter.EXPIRED:
        members = members.filter(expires_at__lte=timezone.now())
    if tag_id:
        members = members.filter(tags__id=tag_id)
    if channel_id == 0:
        members = members.filter(channel__isnull=True)
    elif channel_id is not None:
        members = members.filter(channel_id=channel_id)
    if sub_group_id:
        members = members.filter(sub_group_id=sub_group_id)
    return (
        members.select_related("user", "invited_by", "channel", "sub_group")
        .prefetch_related("tags")
        .order_by("-joined_at", "-id")
    )


# --- memberships, channels, sub-groups, tags (console: scoped to the shop) -----------------


def access_membership(shop: Shop, community: Community, user_id: int) -> CommunityMembership:
    """The membership of ``user_id`` in ``community`` (already scoped to ``shop``); any status."""
    membership = (
        CommunityMembership.objects.select_related("user", "community", "community__shop", "channel", "sub_group")
        .filter(community=community, community__shop=shop, user_id=user_id)
        .first()
    )
    if membership is None:
        raise NotFound(_("成员不存在"), code="member_not_found")
    return membership


def membership_in(community: Community, user_id: int) -> CommunityMembership:
    """For moderation by community admins: a member of this community, any status."""
    membership = (
        CommunityMembership.objects.select_related("user", "community", "community__shop")
        .filter(community=community, user_id=user_id)
        .first()
    )
    if membership is None:
        raise NotFound(_("成员不存在"), code="member_not_found")
    return membership


def my_membership(user: Any, community: Community) -> CommunityMembership | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        CommunityMembership.objects.select_related("sub_group", "channel")
        .filter(community=community, user=user)
        .first()
    )


def community_channels(community: Community) -> QuerySet[Channel]:
    """Channels with ``join_count`` (every join through it) and ``active_count`` (still members)."""
    return (
        Channel.objects.filter(community=community)
        .select_related("community", "community__shop")
        .annotate(
            join_count=Count("memberships", distinct=True),
            active_count=Count("memberships", filter=current_q("memberships__"), distinct=True),
        )
        .order_by("-id")
    )


def access_channel(shop: Shop, channel_id: int) -> Channel:
    channel = (
        Channel.objects.select_related("community", "community__shop")
        .filter(community__shop=shop, pk=channel_id)
        .annotate(join_count=Count("memberships", distinct=True))
        .first()
    )
    if channel is None:
        raise NotFound(_("渠道不存在"), code="channel_not_found")
    return channel


def channel_join_counts(community: Community) -> dict[str | None, int]:
    """Joins per channel code in one query; ``None`` counts joins without a channel."""
    rows = (
        CommunityMembership.objects.filter(community=community)
        .values("channel__code")
        .annotate(joins=Count("id"))
        .order_by()
    )
    return {row["channel__code"]: row["joins"] for row in rows}


def community_sub_groups(community: Community) -> QuerySet[SubGroup]:
    return SubGroup.objects.filter(community=community).select_related("community").order_by("id")


def access_sub_group(shop: Shop, sub_group_id: int) -> SubGroup:
    sub_group = (
        SubGroup.objects.select_related("community", "community__shop")
        .filter(community__shop=shop, pk=sub_group_id)
        .first()
    )
    if sub_group is None:
        raise NotFound(_("分群不存在"), code="sub_group_not_found")
    return sub_group


def member_sub_group(user: Any, sub_group_id: int) -> SubGroup:
    """A sub-group of a community the user is an active member of (others look absent)."""
    sub_group = (
        SubGroup.objects.select_related("community")
        .filter(
            pk=sub_group_id,
            is_active=True,
            community__is_active=True,
            community__memberships__in=CommunityMembership.objects.filter(current_q(), user=user),
        )
        .first()
        if getattr(user, "is_authenticated", False)
        else None
    )
    if sub_group is None:
        raise NotFound(_("分群不存在"), code="sub_group_not_found")
    return sub_group


def community_tags(community: Community) -> QuerySet[Tag]:
    return (
        Tag.objects.filter(community=community)
        .select_related("community")
        .annotate(member_count=Count("memberships", distinct=True))
        .order_by("id")
    )


def access_tag(shop: Shop, tag_id: int) -> Tag:
    tag = Tag.objects.select_related("community", "community__shop").filter(community__shop=shop, pk=tag_id).first()
    if tag is None:
        raise NotFound(_("标签不存在"), code="tag_not_found")
    return tag


# --- invite tree -------------------------------------------------------------------------


@dataclass
class InviteSubtree:
    """A member's invite subtree: everyone who joined through them, directly or down the line."""

    user_id: int
    direct: int = 0  # joins they invited themselves
    size: int = 0  # everyone below them (excluding themselves)
    depth: int = 0  # levels below them: 0 = invited nobody, 1 = only direct invitees, ...
    levels: list[int] = field(default_factory=list)  # joins per level, level 1 first


MAX_INVITE_DEPTH = 1000  # bounds the walk even if bad data made a cycle


def invite_subtree(community: Community, user_id: int) -> InviteSubtree:
    """One recursive CTE (SQLite and PostgreSQL alike) counting the joins per level below
    ``user_id``: no query per member or per level, and no id lists in Python.

    Every join counts (also members removed since): attribution is history.
    """
    table = CommunityMembership._meta.db_table
    sql = f"""
        WITH RECURSIVE tree(user_id, level) AS (
            SELECT user_id, 1 FROM {table} WHERE community_id = %s AND invited_by_id = %s AND user_id <> %s
            UNION
            SELECT member.user_id, tree.level + 1
            FROM {table} AS member JOIN tree ON member.invited_by_id = tree.user_id
            WHERE member.community_id = %s AND tree.level < %s
        )
        SELECT level, COUNT(DISTINCT user_id) FROM tree GROUP BY level ORDER BY level
    """  # noqa: S608 - the table name is ours; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [community.pk, user_id, user_id, community.pk, MAX_INVITE_DEPTH])
        levels = [int(count) for _, count in cursor.fetchall()]
    return InviteSubtree(
        user_id=user_id, direct=levels[0] if levels else 0, size=sum(levels), depth=len(levels), levels=levels
    )


@dataclass
class InviteTreeFigures:
    members: int  # every join (any status)
    invited: int  # joins through a member's link
    max_depth: int  # longest invite chain (1 = someone invited someone)
    top_inviters: list[tuple[Any, InviteSubtree]]  # (user, subtree) by subtree size, largest first


def invite_tree_figures(community: Community, *, top: int = 10) -> InviteTreeFigures:
    """The whole community's tree from one query of (user, inviter) pairs, computed in memory
    (two integers per member: 100,000 members is a few megabytes)."""
    pairs = list(
        CommunityMembership.objects.filter(community=community).values_list("user_id", "invited_by_id").order_by()
    )
    members = {user_id for user_id, _ in pairs}
    children: dict[int, list[int]] = {}
    for user_id, inviter_id in pairs:
        if inviter_id is not None and inviter_id in members and inviter_id != user_id:
            children.setdefault(inviter_id, []).append(user_id)
    # Sizes and depths bottom-up, iteratively (an invite chain may be long).
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    state: dict[int, int] = {}  # 1 = on the stack, 2 = done
    for root in children:
        stack = [root]
        while stack:
            node = stack[-1]
            if state.get(node) == 2:
                stack.pop()
                continue
            if state.get(node) != 1:
                state[node] = 1
                stack.extend(child for child in children.get(node, ()) if child not in state)
                continue
            kids = [child for child in children.get(node, ()) if state.get(child) == 2]
            size[node] = sum(1 + size[child] for child in kids)
            depth[node] = max((1 + depth[child] for child in kids), default=0)
            state[node] = 2
            stack.pop()
    ranked = sorted(children, key=lambda uid: (-size.get(uid, 0), uid))[:top]
    users = {user.pk: user for user in get_user_model().objects.filter(pk__in=ranked)}
    top_inviters = [
        (
            users[uid],
            InviteSubtree(user_id=uid, direct=len(children[uid]), size=size.get(uid, 0), depth=depth.get(uid, 0)),
        )
        for uid in ranked
        if uid in users
    ]
    return InviteTreeFigures(
        members=len(pairs),
        invited=sum(len(kids) for kids in children.values()),
        max_depth=max(depth.values(), default=0),
        top_inviters=top_inviters,
    )


# --- paid membership and joining rules --------------------------------------------------

JOIN_SPEC = "入会"  # the fee product's SKU for new members
RENEWAL_SPEC = "续费"  # the fee product's SKU for current and former members


def local_text(moment: datetime) -> str:
    """2027年1月1日 10:00 in the shop's time zone (Asia/Shanghai)."""
    local = timezone.localtime(moment)
    return dateformat.format(local, _("Y年n月j日 H:i"))


@dataclass
class Recruitment:
    """Where a community stands on recruiting new members right now."""

    has_windows: bool
    open_window: RecruitmentWindow | None
    next_window: RecruitmentWindow | None

    @property
    def is_open(self) -> bool:
        return not self.has_windows or self.open_window is not None

    @property
    def text(self) -> str:
        """What the join page and discover list say (empty when the community always recruits)."""
        if not self.has_windows:
            return ""
        if self.open_window is not None:
            return _("招募中，%(closes_at)s 截止") % {"closes_at": local_text(self.open_window.closes_at)}
        if self.next_window is not None:
            return _("下一次招募将于 %(opens_at)s 开放") % {"opens_at": local_text(self.next_window.opens_at)}
        return _("招募已结束")


def recruitment(community: Community, now: datetime | None = None) -> Recruitment:
    now = now or timezone.now()
    windows = getattr(community, "prefetched_windows", None)
    if windows is None:
        windows = list(RecruitmentWindow.objects.filter(community=community).order_by("opens_at", "id"))
    open_window = next((w for w in windows if w.opens_at <= now < w.closes_at), None)
    upcoming = [w for w in windows if w.opens_at > now]
    return Recruitment(
        has_windows=bool(windows), open_window=open_window, next_window=upcoming[0] if upcoming else None
    )


def current_member_count(community: Community) -> int:
    return (
        Community.objects.filter(pk=community.pk)
        .annotate(count=active_member_count())
        .values_list("count", flat=True)
        .get()
    )


def seats_left(community: Community) -> int | None:
    """Free places under the capacity (None = no limit)."""
    if community.capacity is None:
        return None
    return max(0, community.capacity - current_member_count(community))


def community_windows(community: Community) -> QuerySet[RecruitmentWindow]:
    return RecruitmentWindow.objects.filter(community=community).select_related("community").order_by("opens_at", "id")


def access_window(shop: Shop, window_id: int) -> RecruitmentWindow:
    window = (
        RecruitmentWindow.objects.select_related("community", "community__shop")
        .filter(community__shop=shop, pk=window_id)
        .first()
    )
    if window is None:
        raise NotFound(_("招募时段不存在"), code="window_not_found")
    return window


def fee_skus(community: Community) -> dict[str, Sku]:
    """The fee product's active SKUs by spec (入会, 续费); empty for a free community."""
    if not community.is_paid or community.fee_product_id is None:
        return {}
    return {
        sku.spec: sku
        for sku in Sku.objects.filter(product_id=community.fee_product_id, is_active=True, product__on_shelf=True)
    }


def community_of_product(product_id: int, *, lock: bool = False) -> Community:
    rows = Community.objects.select_related("shop")
    if lock:
        rows = rows.select_for_update()
    community = rows.filter(fee_product_id=product_id).first()
    if community is None:
        raise NotFound(_("社群不存在"), code="community_not_found")
    return community


def discover(shop: Shop) -> QuerySet[Community]:
    """The shop's listed communities for the discover page: active, not invitation-only."""
    return (
        Community.objects.select_related("shop")
        .filter(shop=shop, is_active=True)
        .exclude(join_policy=JoinPolicy.INVITE_ONLY)
        .annotate(member_count=active_member_count())
        .prefetch_related(
            Prefetch(
                "recruitment_windows",
                queryset=RecruitmentWindow.objects.order_by("opens_at", "id"),
                to_attr="prefetched_windows",
            )
        )
        .order_by("id")
    )


def my_memberships(user: Any) -> QuerySet[CommunityMembership]:
    """The member's communities, current and past (active, expired and former; not removed or
    banned), newest first: "my communities" shows expiry and the renewal offer."""
    if not getattr(user, "is_authenticated", False):
        return CommunityMembership.objects.none()
    return (
        CommunityMembership.objects.select_related("community", "community__shop")
        .filter(user=user, status__in=(MemberStatus.ACTIVE, MemberStatus.FORMER), community__is_active=True)
        .annotate(member_count=active_member_count("community_id"))
        .order_by("-joined_at", "-id")
    )


def join_request_of(user: Any, community: Community) -> JoinRequest | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return JoinRequest.objects.filter(community=community, user=user).select_related("inviter", "channel").first()


def join_requests(community: Community, status: str | None = JoinRequestStatus.PENDING) -> QuerySet[JoinRequest]:
    rows = JoinRequest.objects.filter(community=community)
    if status:
        rows = rows.filter(status=status)
    return rows.select_related("user", "inviter", "channel", "decided_by", "community").order_by("created_at", "id")


def access_join_request(shop: Shop, request_id: int) -> JoinRequest:
    found = (
        JoinRequest.objects.select_related("community", "community__shop", "user", "inviter", "channel")
        .filter(community__shop=shop, pk=request_id)
        .first()
    )
    if found is None:
        raise NotFound(_("入群申请不存在"), code="join_request_not_found")
    return found


def latest_term(membership: CommunityMembership) -> MembershipTerm | None:
    return MembershipTerm.objects.filter(membership=membership).order_by("-starts_at", "-id").first()


def valid_invite(community: Community, user: Any, inviter_id: int | None, channel_code: str | None) -> tuple[Any, Any]:
    """(inviter, channel) a link may attribute: the inviter only if a current member other than
    ``user``, the channel only if an active channel of this community (ADR 0002)."""
    inviter = None
    if inviter_id and inviter_id != getattr(user, "pk", None):
        membership = (
            CommunityMembership.objects.select_related("user")
            .filter(current_q(), community=community, user_id=inviter_id)
            .first()
        )
        inviter = membership.user if membership else None
    channel = (
        Channel.objects.filter(community=community, code=channel_code, is_active=True).first() if channel_code else None
    )
    return inviter, channel


class JoinState:
    """What the join page offers the caller (one of these)."""

    LOGIN = "login"  # signed out: sign in first
    MEMBER = "member"  # a current member: go to the community
    RENEW = "renew"  # a current paid member (renew early) or a former one (renew to come back)
    BANNED = "banned"  # barred from joining
    INVITE_REQUIRED = "invite_required"  # invitation-only and the link carries no valid invite
    CLOSED = "closed"  # outside every recruitment window
    FULL = "full"  # capacity reached
    APPLY = "apply"  # approval policy: the member may apply
    PENDING = "pending"  # application waiting for staff
    REJECTED = "rejected"  # application turned down (may apply again)
    JOIN = "join"  # free: join now
    PAY = "pay"  # paid: pay the fee now


@dataclass
class JoinOffer:
    community: Community
    state: str
    recruitment: Recruitment
    seats_left: int | None
    membership: CommunityMembership | None = None
    join_request: JoinRequest | None = None
    inviter: Any = None
    channel: Any = None
    join_sku: Sku | None = None
    renewal_sku: Sku | None = None
    is_current: bool = False  # a current member (active, not expired)

    @property
    def refund_text(self) -> str:
        days = self.community.refund_days
        return _("加入 %(days)s 天内可申请全额退款") % {"days": days} if days else _("会费不支持退款")


def join_offer(
    community: Community, user: Any, *, inviter_id: int | None = None, channel_code: str | None = None
) -> JoinOffer:
    """Everything the join page shows and which button it offers, decided in one place.

    The same rules guard the writes (``actions.check_new_member``, ``actions.check_renewal``).
    """
    now = timezone.now()
    skus = fee_skus(community)
    offer = JoinOffer(
        community=community,
        state=JoinState.LOGIN,
        recruitment=recruitment(community, now),
        seats_left=seats_left(community),
        join_sku=skus.get(JOIN_SPEC),
        renewal_sku=skus.get(RENEWAL_SPEC),
    )
    offer.inviter, offer.channel = valid_invite(community, user, inviter_id, channel_code)
    if not getattr(user, "is_authenticated", False):
        if community.join_policy == JoinPolicy.INVITE_ONLY and offer.inviter is None and offer.channel is None:
            offer.state = JoinState.INVITE_REQUIRED
        elif not offer.recruitment.is_open:
            offer.state = JoinState.CLOSED
        return offer
    membership = my_membership(user, community)
    offer.membership = membership
    offer.join_request = join_request_of(user, community)
    if membership is not None and membership.status == MemberStatus.BANNED:
        offer.state = JoinState.BANNED
    elif is_current(membership, now):
        offer.is_current = True
        renewable = community.is_paid and membership is not None and membership.expires_at is not None
        offer.state = JoinState.RENEW if renewable and offer.renewal_sku else JoinState.MEMBER
    elif (
        membership is not None
        and membership.status in (MemberStatus.ACTIVE, MemberStatus.FORMER)
        and (community.is_paid and offer.renewal_sku is not None)
    ):
        offer.state = JoinState.RENEW
    else:
        offer.state = new_member_state(community, offer.join_request, offer.inviter, offer.channel, offer, now)
    return offer


def new_member_state(
    community: Community, request: JoinRequest | None, inviter: Any, channel: Any, offer: JoinOffer, now: datetime
) -> str:
    """The join page's state for someone not (or no longer) a member, in the order the rules apply."""
    approved = request is not None and request.status == JoinRequestStatus.APPROVED
    if community.join_policy == JoinPolicy.INVITE_ONLY:
        invited = inviter is not None or channel is not None
        invited = invited or (
            request is not None and (request.inviter_id is not None or request.channel_id is not None)
        )
        if not invited:
            return JoinState.INVITE_REQUIRED
    if community.join_policy == JoinPolicy.APPROVAL and not approved:
        if request is not None and request.status == JoinRequestStatus.PENDING:
            return JoinState.PENDING
        if not offer.recruitment.is_open:
            return JoinState.CLOSED
        if request is not None and request.status == JoinRequestStatus.REJECTED:
            return JoinState.REJECTED
        return JoinState.APPLY
    # An approved application keeps its right to join after the window it was made in closed.
    if not offer.recruitment.is_open and not (community.join_policy == JoinPolicy.APPROVAL and approved):
        return JoinState.CLOSED
    if offer.seats_left == 0:
        return JoinState.FULL
    return JoinState.PAY if community.is_paid else JoinState.JOIN
