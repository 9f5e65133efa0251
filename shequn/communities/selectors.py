"""Reads for communities. Console reads go through ``access_*(shop, id)`` scoped to the shop;
member reads check membership (a feed is for members only)."""

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from shequn.catalog.models import Product, ProductImage, Sku
from shequn.core.errors import NotFound, PermissionDenied
from shequn.shops.models import Shop

from .enums import MemberStatus
from .models import Community, CommunityMembership, Post, PostProduct

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


def community_members(community: Community) -> QuerySet[CommunityMembership]:
    return (
        CommunityMembership.objects.filter(community=community)
        .select_related("user", "invited_by")
        .order_by("-joined_at", "-id")
    )


def composer_products(shop: Shop) -> QuerySet[Product]:
    """Products staff may attach to a post: on-shelf products of this shop only."""
    return Product.objects.filter(shop=shop, on_shelf=True).order_by("position", "-id")
