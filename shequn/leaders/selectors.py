"""Reads for group leaders (团长). Other apps (groupbuy, fulfilment, teambuy) use these:

- ``leader_of(user, shop) -> Leader | None``: the user's *active* leader role in ``shop``
  (applied, rejected and suspended leaders are None). Use it to decide what a page shows.
- ``require_leader(user, shop) -> Leader``: the same, for writes and leader pages: raises
  ``NotAuthenticated`` (401) for anonymous callers and ``NotALeader`` (403, code
  ``not_a_leader``) with a clear message when the user has no active role in the shop.
- ``access_leader(shop, leader_id) -> Leader``: any leader row of ``shop`` (every status);
  ``LeaderNotFound`` (404) for missing ids and other shops' leaders. Console reads.
- ``active_leaders(shop) -> QuerySet[Leader]``: approved, not suspended, with their pickup
  point, community and sub-group selected; ordered by point name.
- ``leader_for_pickup_point(point) -> Leader | None``: the leader running a pickup point,
  whatever their status (a suspended leader still hands out open orders); None for the
  shop's own points. Check ``leader.status`` when only active leaders may act.
- ``member_leader(user, leader_id) -> Leader``: an active leader as seen by a current member
  of the leader's community (others get 404); show ``masked_contact(leader)``, never the phone.
"""

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shequn.communities import selectors as community_selectors
from shequn.communities.models import Community, CommunityMembership, SubGroup
from shequn.core.errors import NotAuthenticated, NotFound
from shequn.core.phone import mask_phone
from shequn.shops.models import PickupPoint, Shop

from .enums import LeaderStatus
from .errors import LeaderNotFound, NotALeader, NotAShopMember
from .models import Leader

LEADER_NOT_FOUND = gettext_lazy("团长不存在")
NOT_A_SHOP_MEMBER = gettext_lazy("仅本店社群的成员可以申请成为团长，请先加入社群")


def _leaders() -> QuerySet[Leader]:
    return Leader.objects.select_related("shop", "user", "community", "sub_group", "pickup_point", "decided_by")


# --- for other apps ----------------------------------------------------------------


def leader_of(user: Any, shop: Shop) -> Leader | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return _leaders().filter(shop=shop, user=user, status=LeaderStatus.ACTIVE).first()


def require_leader(user: Any, shop: Shop) -> Leader:
    if not getattr(user, "is_authenticated", False):
        raise NotAuthenticated(_("请先登录"), code="not_authenticated")
    leader = _leaders().filter(shop=shop, user=user).first()
    if leader is None or leader.status in (LeaderStatus.APPLIED, LeaderStatus.REJECTED):
        raise NotALeader(_("你还不是本店的团长"), code="not_a_leader")
    if leader.status == LeaderStatus.SUSPENDED:
        raise NotALeader(_("你的团长资格已暂停，请联系店铺运营"), code="not_a_leader")
    return leader


def access_leader(shop: Shop, leader_id: int) -> Leader:
    leader = _leaders().filter(shop=shop, pk=leader_id).first()
    if leader is None:
        raise LeaderNotFound(str(LEADER_NOT_FOUND))
    return leader


def active_leaders(shop: Shop) -> QuerySet[Leader]:
    return _leaders().filter(shop=shop, status=LeaderStatus.ACTIVE).order_by("point_name", "id")


def leader_for_pickup_point(point: PickupPoint | int) -> Leader | None:
    point_id = point if isinstance(point, int) else point.pk
    return _leaders().filter(pickup_point_id=point_id).first()


def masked_contact(leader: Leader) -> str:
    """The pickup point's contact phone as members see it (138****1234)."""
    return mask_phone(leader.contact_phone)


def member_leader(user: Any, leader_id: int) -> Leader:
    leader = _leaders().filter(pk=leader_id, status=LeaderStatus.ACTIVE, community__is_active=True).first()
    if leader is None or not community_selectors.is_community_member(user, leader.community):
        raise LeaderNotFound(str(LEADER_NOT_FOUND))
    return leader


# --- members -----------------------------------------------------------------------


def shop_by_slug(slug: str) -> Shop:
    shop = Shop.objects.filter(slug=slug).first()
    if shop is None:
        raise NotFound(_("店铺不存在"), code="shop_not_found")
    return shop


def applicable_communities(user: Any, shop: Shop) -> QuerySet[Community]:
    """Active communities of ``shop`` the user currently belongs to: where they may apply."""
    if not getattr(user, "is_authenticated", False):
        return Community.objects.none()
    memberships = CommunityMembership.objects.filter(community_selectors.current_q(), user=user)
    return Community.objects.filter(shop=shop, is_active=True, memberships__in=memberships).distinct().order_by("id")


def require_applicable_communities(user: Any, shop: Shop) -> list[Community]:
    communities = list(applicable_communities(user, shop))
    if not communities:
        raise NotAShopMember(str(NOT_A_SHOP_MEMBER))
    return communities


def sub_groups_of(communities: list[Community]) -> QuerySet[SubGroup]:
    return SubGroup.objects.filter(community__in=communities, is_active=True).order_by("community_id", "id")


def my_application(user: Any, shop: Shop) -> Leader | None:
    """The user's leader row in ``shop`` (any status), or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    return _leaders().filter(shop=shop, user=user).first()


def my_leader_roles(user: Any) -> QuerySet[Leader]:
    if not getattr(user, "is_authenticated", False):
        return Leader.objects.none()
    return _leaders().filter(user=user).order_by("-created_at", "-id")


def shops_to_apply(user: Any) -> QuerySet[Shop]:
    """Shops where the user belongs to an active community and has no leader row yet."""
    if not getattr(user, "is_authenticated", False):
        return Shop.objects.none()
    memberships = CommunityMembership.objects.filter(community_selectors.current_q(), user=user)
    return (
        Shop.objects.filter(communities__is_active=True, communities__memberships__in=memberships)
        .exclude(leaders__user=user)
        .distinct()
        .order_by("id")
    )


# --- console -----------------------------------------------------------------------


def shop_leaders(shop: Shop, status: str | None = None) -> QuerySet[Leader]:
    """The console list: applications waiting first come oldest first; others newest first."""
    leaders = _leaders().filter(shop=shop)
    if status:
        leaders = leaders.filter(status=status)
    if status == LeaderStatus.APPLIED:
        return leaders.order_by("created_at", "id")
    return leaders.order_by("-created_at", "-id")


def pending_count(shop: Shop) -> int:
    return Leader.objects.filter(shop=shop, status=LeaderStatus.APPLIED).count()
