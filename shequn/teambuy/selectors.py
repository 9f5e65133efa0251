"""Reads of team buys. ``access_*`` fetch an object scoped to the caller's shop (foreign ids 404)."""

from typing import Any

from django.db.models import F, Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.core.phone import mask_name
from shequn.shops.models import Shop

from .enums import MemberStatus, TeamStatus
from .errors import OfferNotFound, TeamNotFound
from .models import Team, TeamMember, TeamOffer

LIVE_MEMBER_STATUSES = (MemberStatus.PENDING, MemberStatus.PAID)


# --- console -----------------------------------------------------------------------------


def shop_offers(shop: Shop) -> QuerySet[TeamOffer]:
    return TeamOffer.objects.filter(shop=shop).select_related("sku__product").order_by("-created_at", "-id")


def access_offer(shop: Shop, offer_id: int) -> TeamOffer:
    offer = shop_offers(shop).filter(pk=offer_id).first()
    if offer is None:
        raise OfferNotFound(_("拼团活动不存在"))
    return offer


def shop_teams(shop: Shop, *, status: str = "", offer_id: int | None = None) -> QuerySet[Team]:
    teams = (
        Team.objects.filter(shop=shop)
        .select_related("offer", "opened_by")
        .prefetch_related(Prefetch("members", TeamMember.objects.select_related("order").order_by("joined_at", "id")))
        .order_by("-created_at", "-id")
    )
    if status in TeamStatus.values:
        teams = teams.filter(status=status)
    if offer_id:
        # An id out of the column's range matches nothing (and must not reach the database).
        teams = teams.filter(offer_id=offer_id) if 0 < offer_id < 2**31 else teams.none()
    return teams


def access_team(shop: Shop, team_id: int) -> Team:
    team = shop_teams(shop).filter(pk=team_id).first()
    if team is None:
        raise TeamNotFound(_("拼团不存在"))
    return team


# --- members -----------------------------------------------------------------------------


def public_offer(offer_id: int) -> TeamOffer:
    """An offer members can see: active, of an active shop."""
    offer = TeamOffer.objects.select_related("shop", "sku__product").filter(pk=offer_id, is_active=True).first()
    if offer is None:
        raise OfferNotFound(_("拼团活动不存在或已下线"))
    return offer


def public_team(team_id: int) -> Team:
    """A team anyone with its share link may look at (member names are masked)."""
    team = Team.objects.select_related("offer__sku__product", "shop", "opened_by").filter(pk=team_id).first()
    if team is None:
        raise TeamNotFound(_("拼团不存在"))
    return team


def joinable_teams(offer: TeamOffer, *, limit: int = 20) -> QuerySet[Team]:
    """Teams still forming with a free seat, closest to their deadline first."""
    return (
        Team.objects.filter(
            offer=offer, status=TeamStatus.FORMING, expires_at__gt=timezone.now(), seats_taken__lt=F("team_size")
        )
        .select_related("opened_by")
        .order_by("expires_at", "id")[:limit]
    )


def live_members(team: Team) -> list[TeamMember]:
    return list(
        TeamMember.objects.filter(team=team, status__in=(*LIVE_MEMBER_STATUSES, MemberStatus.REFUNDED))
        .select_related("user")
        .order_by("joined_at", "id")
    )


def masked_members(team: Team) -> list[dict[str, Any]]:
    return [
        {
            "name": mask_name(member.user.display_name),
            "is_opener": member.is_opener,
            "status": member.status,
            "status_label": MemberStatus(member.status).label,
        }
        for member in live_members(team)
    ]


def membership(user: Any, team: Team) -> TeamMember | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return TeamMember.objects.filter(team=team, user=user).select_related("order").order_by("-joined_at", "-id").first()


def my_teams(user: Any) -> QuerySet[TeamMember]:
    return (
        TeamMember.objects.filter(user=user)
        .select_related("team__offer__sku__product", "order")
        .order_by("-joined_at", "-id")
    )


def seconds_left(team: Team) -> int:
    if team.status != TeamStatus.FORMING:
        return 0
    return max(0, int((team.expires_at - timezone.now()).total_seconds()))


# --- for fulfilment (apps above teambuy) -------------------------------------------------
