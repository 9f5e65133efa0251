"""Reads for group buying.

Members see a campaign once it is published and only when they belong to the community of a
leader taking part (else 404: members-only content is invisible). Console reads are scoped to
the caller's shop (``access_*(shop, id)``: foreign ids look absent). Leaders see their own
point's campaigns and sign-ups.
"""

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet, Sum

from shequn.communities.models import CommunityMembership
from shequn.communities.selectors import current_q
from shequn.core.errors import NotAuthenticated
from shequn.core.phone import mask_name
from shequn.leaders.enums import LeaderStatus
from shequn.leaders.models import Leader
from shequn.shops.models import Shop

from .enums import CampaignStatus, SignUpStatus
from .errors import CampaignNotFound, LeaderNotFound, NotALeader, SignUpNotFound
from .models import Campaign, CampaignItem, SignUp, SignUpLine

CAMPAIGN_NOT_FOUND = "接龙不存在或仅对参与社群的成员开放"
LIVE_STATUSES = (SignUpStatus.PENDING_PAYMENT, SignUpStatus.CONFIRMED)
CLOSED_STATUSES = (CampaignStatus.SUCCEEDED, CampaignStatus.FAILED, CampaignStatus.CANCELLED)


def with_items(campaigns: QuerySet[Campaign]) -> QuerySet[Campaign]:
    return campaigns.prefetch_related(
        Prefetch("items", queryset=CampaignItem.objects.select_related("sku__product").prefetch_related("tiers"))
    )


# --- members -----------------------------------------------------------------------


def member_leaders(user: Any, campaign: Campaign) -> list[Leader]:
    """The campaign's leaders whose community ``user`` currently belongs to (empty: not theirs)."""
    if not getattr(user, "is_authenticated", False):
        return []
    communities = CommunityMembership.objects.filter(current_q(), user=user).values("community_id")
    return list(
        campaign.leaders.filter(community_id__in=communities)
        .select_related("pickup_point", "user", "sub_group", "community")
        .order_by("id")
    )


def default_leader(user: Any, leaders: list[Leader]) -> Leader | None:
    """The leader of the member's own sub-group when one takes part, else the first one."""
    if not leaders:
        return None
    sub_groups = set(
        CommunityMembership.objects.filter(
            current_q(), user=user, community_id__in=[leader.community_id for leader in leaders]
        ).values_list("sub_group_id", flat=True)
    )
    for leader in leaders:
        if leader.sub_group_id is not None and leader.sub_group_id in sub_groups:
            return leader
    return leaders[0]


def access_member_campaign(user: Any, campaign_id: int) -> Campaign:
    """A published campaign ``user`` may see: they belong to a taking-part leader's community."""
    campaign = with_items(Campaign.objects.exclude(status=CampaignStatus.DRAFT)).filter(pk=campaign_id).first()
    if campaign is None or not member_leaders(user, campaign):
        raise CampaignNotFound(CAMPAIGN_NOT_FOUND)
    return campaign


def my_sign_ups(user: Any) -> QuerySet[SignUp]:
    return (
        SignUp.objects.filter(user=user)
        .select_related("campaign", "leader__pickup_point", "order")
        .prefetch_related("lines__item__sku__product")
        .order_by("-created_at", "-id")
    )


def access_my_sign_up(user: Any, sign_up_id: int) -> SignUp:
    sign_up = my_sign_ups(user).filter(pk=sign_up_id).first()
    if sign_up is None:
        raise SignUpNotFound("接龙记录不存在")
    return sign_up


@dataclass(frozen=True)
class ListEntry:
    sequence: int
    name: str  # masked
    text: str  # "×2 三文鱼 500g"
    leader_id: int


def live_list(campaign: Campaign, *, leader: Leader | None = None) -> list[ListEntry]:
    """Confirmed sign-ups in sequence order: "1. 王** ×2 三文鱼 500g" (names masked)."""
    sign_ups = (
        SignUp.objects.filter(campaign=campaign, status=SignUpStatus.CONFIRMED)
        .select_related("user")
        .prefetch_related(
            Prefetch("lines", queryset=SignUpLine.objects.filter(units__gt=0).select_related("item__sku__product"))
        )
        .order_by("sequence")
    )
    if leader is not None:
        sign_ups = sign_ups.filter(leader=leader)
    entries = []
    for sign_up in sign_ups:
        text = "，".join(
            f"×{line.units} {line.item.sku.product.title} {line.item.sku.spec}".rstrip() for line in sign_up.lines.all()
        )
        entries.append(
            ListEntry(
                sequence=sign_up.sequence or 0,
                name=mask_name(sign_up.user.display_name),
                text=text,
                leader_id=sign_up.leader_id,
            )
        )
    return entries


# --- leaders -----------------------------------------------------------------------


def active_leader(user: Any, shop: Shop | None = None) -> Leader:
    """The caller's active leader role (in ``shop`` when given); else 403 not_a_leader."""
    if not getattr(user, "is_authenticated", False):
        raise NotAuthenticated("请先登录")
    leaders = Leader.objects.filter(user=user, status=LeaderStatus.ACTIVE, pickup_point__isnull=False)
    if shop is not None:
        leaders = leaders.filter(shop=shop)
    leader = leaders.select_related("shop", "pickup_point", "community").order_by("id").first()
    if leader is None:
        raise NotALeader("你还不是在职团长")
    return leader


def leader_campaigns(leader: Leader) -> QuerySet[Campaign]:
    return with_items(Campaign.objects.filter(leaders=leader)).order_by("-deadline", "-id")


def access_leader_campaign(leader: Leader, campaign_id: int) -> Campaign:
    campaign = leader_campaigns(leader).filter(pk=campaign_id).first()
    if campaign is None:
        raise CampaignNotFound("接龙不存在")
    return campaign


# --- console -----------------------------------------------------------------------


def shop_campaigns(shop: Shop) -> QuerySet[Campaign]:
    return (
        with_items(Campaign.objects.filter(shop=shop))
        .annotate(
            confirmed_count=Count("sign_ups", filter=Q(sign_ups__status=SignUpStatus.CONFIRMED), distinct=True),
            leader_count=Count("leaders", distinct=True),
        )
        .order_by("-deadline", "-id")
    )


def access_campaign(shop: Shop, campaign_id: int) -> Campaign:
    campaign = shop_campaigns(shop).filter(pk=campaign_id).first()
    if campaign is None:
        raise CampaignNotFound("接龙不存在")
    return campaign


def access_leader(shop: Shop, leader_id: int) -> Leader:
    leader = (
        Leader.objects.filter(shop=shop, pk=leader_id, status=LeaderStatus.ACTIVE, pickup_point__isnull=False)
        .select_related("community", "pickup_point")
        .first()
    )
    if leader is None:
        raise LeaderNotFound("团长不存在或未在职")
    return leader


def shop_active_leaders(shop: Shop) -> QuerySet[Leader]:
    return Leader.objects.filter(shop=shop, status=LeaderStatus.ACTIVE, pickup_point__isnull=False).select_related(
        "user", "community", "sub_group", "pickup_point"
    )


@dataclass(frozen=True)
class SuccessRate:
    closed: int
    succeeded: int

    @property
    def percent(self) -> int | None:
        return round(self.succeeded * 100 / self.closed) if self.closed else None


def success_rate(campaigns: QuerySet[Campaign]) -> SuccessRate:
    counts = campaigns.filter(status__in=[CampaignStatus.SUCCEEDED, CampaignStatus.FAILED]).aggregate(
        closed=Count("id"), succeeded=Count("id", filter=Q(status=CampaignStatus.SUCCEEDED))
    )
    return SuccessRate(closed=counts["closed"] or 0, succeeded=counts["succeeded"] or 0)


def paid_units(campaign: Campaign) -> int:
    return CampaignItem.objects.filter(campaign=campaign).aggregate(total=Sum("paid_units"))["total"] or 0


@dataclass(frozen=True)
class LeaderRate:
    leader: Leader
    rate: SuccessRate


def leader_success_rates(shop: Shop) -> list[LeaderRate]:
    """Each active leader's closed campaigns (succeeded or failed) and how many succeeded."""
    closed = Q(campaigns__status__in=[CampaignStatus.SUCCEEDED, CampaignStatus.FAILED])
    leaders = shop_active_leaders(shop).annotate(
        closed=Count("campaigns", filter=closed, distinct=True),
        succeeded=Count("campaigns", filter=Q(campaigns__status=CampaignStatus.SUCCEEDED), distinct=True),
    )
    return [
        LeaderRate(leader=leader, rate=SuccessRate(closed=leader.closed, succeeded=leader.succeeded))
        for leader in leaders.order_by("id")
    ]
