"""Reads for communities. Console reads go through ``access_*(shop, id)`` scoped to the shop;
member reads check membership (a feed is for members only)."""

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from shequn.catalog.models import ProductImage, Sku
from shequn.core.errors import NotFound, PermissionDenied
from shequn.shops.models import Shop

from .enums import MemberStatus
from .models import Channel, Community, CommunityMembership, Post, PostProduct, SubGroup, Tag

# Active members only: removed, banned and former members keep their rows but do not count.
ACTIVE_MEMBER_COUNT = Count("memberships", filter=Q(memberships__status=MemberStatus.ACTIVE), distinct=True)


def is_shop_member(user: Any, shop: Shop) -> bool:
    """Whether ``user`` belongs to any active community of ``shop`` (member prices apply)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return CommunityMembership.objects.filter(
        user=user, community__shop=shop, community__is_active=True, status=MemberStatus.ACTIVE
    ).exists()


def is_community_member(user: Any, community: Community) -> bool:
    """Whether ``user`` is an *active* member (removed, banned and former members are not)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return CommunityMembership.objects.filter(user=user, community=community, status=MemberStatus.ACTIVE).exists()


def is_muted(user: Any, community: Community) -> bool:
    """Whether ``user`` is an active member of ``community`` muted until a time still to come."""
    if not getattr(user, "is_authenticated", False):
        return False
    return CommunityMembership.objects.filter(
        user=user, community=community, status=MemberStatus.ACTIVE, muted_until__gt=timezone.now()
    ).exists()


def is_banned(user: Any, community: Community) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return CommunityMembership.objects.filter(user=user, community=community, status=MemberStatus.BANNED).exists()


class NotAMember(PermissionDenied):
    code = "not_a_member"


# --- members -----------------------------------------------------------------------


def community_by_invite_code(invite_code: str) -> Community:
    community = (
        Community.objects.select_related("shop")
        .filter(invite_code=invite_code, is_active=True)
        .annotate(member_count=ACTIVE_MEMBER_COUNT)
        .first()
    )
    if community is None:
        raise NotFound("邀请链接无效或已失效，请向群主索取新的链接", code="invite_not_found")
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
        .annotate(member_count=ACTIVE_MEMBER_COUNT)
        .first()
    )
    if community is None:
        raise NotFound("社群不存在", code="community_not_found")
    return community


def access_member_community(user: Any, community_id: int) -> Community:
    """An active community the user belongs to; NotAMember (403) for others."""
    community = active_community(community_id)
    if not is_community_member(user, community):
        raise NotAMember("仅社群成员可以查看，请通过邀请链接加入", code="not_a_member")
    return community


def my_communities(user: Any) -> QuerySet[Community]:
    if not getattr(user, "is_authenticated", False):
        return Community.objects.none()
    return (
        Community.objects.select_related("shop")
        .filter(
            pk__in=CommunityMembership.objects.filter(user=user, status=MemberStatus.ACTIVE).values("community_id"),
            is_active=True,
        )
        .annotate(member_count=ACTIVE_MEMBER_COUNT)
        .order_by("-id")
    )


def _posts_with_cards(posts: QuerySet[Post]) -> QuerySet[Post]:
    cards = PostProduct.objects.select_related("product", "product__shop").prefetch_related(
        Prefetch("product__skus", queryset=Sku.objects.filter(is_active=True).order_by("position", "id")),
        Prefetch("product__images", queryset=ProductImage.objects.order_by("position", "id")),
    )
    return posts.select_related("author", "community", "shop").prefetch_related(
        Prefetch("postproduct_set", queryset=cards.order_by("position", "id"), to_attr="cards")
    )


def community_feed(community: Community) -> QuerySet[Post]:
    return _posts_with_cards(Post.objects.filter(community=community, is_published=True)).order_by(
        "-is_pinned", "-created_at", "-id"
    )


def access_member_post(user: Any, community_id: int, post_id: int) -> Post:
    community = access_member_community(user, community_id)
    post = _posts_with_cards(Post.objects.filter(community=community, pk=post_id, is_published=True)).first()
    if post is None:
        raise NotFound("帖子不存在或已撤回", code="post_not_found")
    return post


# --- console (staff of one shop) ---------------------------------------------------


def shop_communities(shop: Shop) -> QuerySet[Community]:
    return (
        Community.objects.filter(shop=shop)
        .annotate(
            member_count=Count("memberships", filter=Q(memberships__status=MemberStatus.ACTIVE), distinct=True),
            post_count=Count("posts", filter=Q(posts__is_published=True), distinct=True),
        )
        .order_by("-is_active", "id")
    )


def access_community(shop: Shop, community_id: int) -> Community:
    community = Community.objects.select_related("shop").filter(shop=shop, pk=community_id).first()
    if community is None:
        raise NotFound("社群不存在", code="community_not_found")
    return community


def access_post(shop: Shop, post_id: int) -> Post:
    post = _posts_with_cards(Post.objects.filter(shop=shop, pk=post_id)).first()
    if post is None:
        raise NotFound("帖子不存在", code="post_not_found")
    return post


def community_posts(community: Community) -> QuerySet[Post]:
    """Every post, published or not (the console's view)."""
    return _posts_with_cards(Post.objects.filter(community=community)).order_by("-is_pinned", "-created_at", "-id")


def community_members(
    community: Community,
    *,
    status: str | None = None,
    tag_id: int | None = None,
    channel_id: int | None = None,
    sub_group_id: int | None = None,
) -> QuerySet[CommunityMembership]:
    """Members of ``community``, optionally filtered by status, tag, join channel or sub-group.

    ``channel_id=0`` means joined without a channel.
    """
    members = CommunityMembership.objects.filter(community=community)
    if status:
        members = members.filter(status=status)
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
        raise NotFound("成员不存在", code="member_not_found")
    return membership


def membership_in(community: Community, user_id: int) -> CommunityMembership:
    """For moderation by community admins: a member of this community, any status."""
    membership = (
        CommunityMembership.objects.select_related("user", "community", "community__shop")
        .filter(community=community, user_id=user_id)
        .first()
    )
    if membership is None:
        raise NotFound("成员不存在", code="member_not_found")
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
            active_count=Count("memberships", filter=Q(memberships__status=MemberStatus.ACTIVE), distinct=True),
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
        raise NotFound("渠道不存在", code="channel_not_found")
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
        raise NotFound("分群不存在", code="sub_group_not_found")
    return sub_group


def member_sub_group(user: Any, sub_group_id: int) -> SubGroup:
    """A sub-group of a community the user is an active member of (others look absent)."""
    sub_group = (
        SubGroup.objects.select_related("community")
        .filter(
            pk=sub_group_id,
            is_active=True,
            community__is_active=True,
            community__memberships__user=user,
            community__memberships__status=MemberStatus.ACTIVE,
        )
        .first()
        if getattr(user, "is_authenticated", False)
        else None
    )
    if sub_group is None:
        raise NotFound("分群不存在", code="sub_group_not_found")
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
        raise NotFound("标签不存在", code="tag_not_found")
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
