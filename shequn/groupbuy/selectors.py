"""Reads for group buying.

Members see a campaign once it is published and only when they belong to the community of a
leader taking part (else 404: members-only content is invisible). Console reads are scoped to
the caller's shop (``access_*(shop, id)``: foreign ids look absent). Leaders see their own
point's campaigns and sign-ups.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Count, F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shequn.communities.cards import PostCard
from shequn.communities.models import CommunityMembership, Post
from shequn.communities.selectors import current_q
from shequn.core.errors import NotAuthenticated, NotFound
from shequn.core.phone import mask_name
from shequn.gate.engine import get_gate
from shequn.leaders.enums import LeaderStatus
from shequn.leaders.models import Leader
from shequn.shops.models import Shop

from .enums import CampaignStatus, SignUpStatus
from .errors import CampaignNotFound, LeaderNotFound, NotALeader, SignUpNotFound
from .models import Campaign, CampaignItem, CampaignLeader, SignUp, SignUpLine, pool_key

CAMPAIGN_NOT_FOUND = gettext_lazy("接龙不存在或仅对参与社群的成员开放")
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
    sub_groups: set[int | None] = set(
        CommunityMembership.objects.filter(
            current_q(), user=user, community_id__in=[leader.community_id for leader in leaders]
        ).values_list("sub_group_id", flat=True)
    )
    return _default_of(leaders, sub_groups)


def pickup_leaders_of(user_ids: Sequence[int], campaign: Campaign) -> dict[int, tuple[list[Leader], Leader | None]]:
    """For many members at once (two queries): the campaign's leaders with a pickup point each may
    sign up with, and their default one (``member_leaders`` and ``default_leader``, set-based)."""
    leaders = [x for x in campaign.leaders.select_related("pickup_point").order_by("id") if x.pickup_point_id]
    memberships = CommunityMembership.objects.filter(
        current_q(), user_id__any_of=user_ids, community_id__in={x.community_id for x in leaders}
    ).values_list("user_id", "community_id", "sub_group_id")
    communities: dict[int, set[int]] = {}
    sub_groups: dict[int, set[int | None]] = {}
    for user_id, community_id, sub_group_id in memberships:
        communities.setdefault(user_id, set()).add(community_id)
        sub_groups.setdefault(user_id, set()).add(sub_group_id)
    found: dict[int, tuple[list[Leader], Leader | None]] = {}
    for user_id in user_ids:
        theirs = [x for x in leaders if x.community_id in communities.get(user_id, set())]
        found[user_id] = (theirs, _default_of(theirs, sub_groups.get(user_id, set())) if theirs else None)
    return found


def _default_of(leaders: list[Leader], sub_groups: set[int | None]) -> Leader:
    for leader in leaders:
        if leader.sub_group_id is not None and leader.sub_group_id in sub_groups:
            return leader
    return leaders[0]


def access_member_campaign(user: Any, campaign_id: int) -> Campaign:
    """A published campaign ``user`` may see: they belong to a taking-part leader's community."""
    # With its shop: the share card shows the shop's logo.
    campaigns = Campaign.objects.exclude(status=CampaignStatus.DRAFT).select_related("shop")
    campaign = with_items(campaigns).filter(pk=campaign_id).first()
    if campaign is None or not member_leaders(user, campaign):
        raise CampaignNotFound(str(CAMPAIGN_NOT_FOUND))
    return campaign


def my_sign_ups(user: Any) -> QuerySet[SignUp]:
    """The member's sign-ups, each with ``position``: its number on the live list when confirmed."""
    return (
        with_position(SignUp.objects.filter(user=user))
        .select_related("campaign", "leader__pickup_point", "order")
        .prefetch_related("lines__item__sku__product", "lines__order_line")
        .order_by("-created_at", "-id")
    )


def access_my_sign_up(user: Any, sign_up_id: int) -> SignUp:
    sign_up = my_sign_ups(user).filter(pk=sign_up_id).first()
    if sign_up is None:
        raise SignUpNotFound(_("接龙记录不存在"))
    return sign_up


def _current_communities(user: Any) -> QuerySet[CommunityMembership]:
    return CommunityMembership.objects.filter(current_q(), user=user, community__is_active=True)


def open_campaigns(user: Any, *, community_id: int | None = None) -> QuerySet[Campaign]:
    """Campaigns taking sign-ups now in the communities ``user`` belongs to (in ``community_id``
    only, when given: a community they do not belong to is 404), closing soonest first."""
    if not getattr(user, "is_authenticated", False):
        raise NotAuthenticated(_("请先登录"))
    communities = _current_communities(user)
    if community_id is not None:
        communities = communities.filter(community_id=community_id)
        if not communities.exists():
            raise NotFound(_("社群不存在或你还不是成员"), code="community_not_found")
    now = timezone.now()
    ids = Campaign.objects.filter(
        status=CampaignStatus.OPEN,
        starts_at__lte=now,
        deadline__gt=now,
        leaders__community_id__in=communities.values("community_id"),
    ).values("pk")
    return with_items(Campaign.objects.filter(pk__in=ids)).order_by("deadline", "id")


@dataclass(frozen=True)
class CampaignSummary:
    """What a card shows of a campaign: in a feed post, on the open campaigns page, in the API."""

    campaign_id: int
    title: str
    status: str
    status_label: str
    is_open: bool  # taking sign-ups right now
    price_fen: int  # the lowest price a new sign-up pays now
    several_prices: bool  # items at different prices: the card says "起"
    item_count: int
    deadline: datetime
    pickup_date: date
    paid_units: int
    min_total_units: int
    url: str

    @property
    def progress_percent(self) -> int:
        if not self.min_total_units:
            return 100
        return min(100, self.paid_units * 100 // self.min_total_units)


def summarise(campaign: Campaign, *, now: datetime | None = None) -> CampaignSummary:
    """``campaign`` with its items prefetched (``with_items``): no query of its own."""
    now = now or timezone.now()
    items = list(campaign.items.all())
    prices = [min(item.price_fen, item.tier_price_fen or item.price_fen) for item in items]
    return CampaignSummary(
        campaign_id=campaign.pk,
        title=campaign.title,
        status=campaign.status,
        status_label=campaign.get_status_display(),
        is_open=campaign.status == CampaignStatus.OPEN and campaign.starts_at <= now < campaign.deadline,
        price_fen=min(prices, default=0),
        several_prices=len(set(prices)) > 1,
        item_count=len(items),
        deadline=campaign.deadline,
        pickup_date=campaign.pickup_date,
        paid_units=sum(item.paid_units for item in items),
        min_total_units=campaign.min_total_units,
        url=reverse("groupbuy:campaign", args=[campaign.pk]),
    )


CARD_TEMPLATE = "groupbuy/_campaign_card.html"


def campaign_cards(posts: Sequence[Post]) -> dict[int, list[PostCard]]:
    """Provider of ``communities.cards``: the campaign card of each post announcing a campaign.

    Two queries for any number of posts. The feed is members-only already; the card's link
    leads to the campaign page, which checks membership again."""
    links = (
        CampaignLeader.objects.filter(post_id__in=[post.pk for post in posts])
        .exclude(campaign__status=CampaignStatus.DRAFT)
        .values_list("post_id", "campaign_id")
        .distinct()
    )
    by_post: dict[int, list[int]] = {}
    for post_id, campaign_id in links:
        by_post.setdefault(post_id, []).append(campaign_id)
    if not by_post:
        return {}
    wanted = {campaign_id for ids in by_post.values() for campaign_id in ids}
    campaigns = {c.pk: c for c in with_items(Campaign.objects.filter(pk__in=wanted))}
    now = timezone.now()
    return {
        post_id: [PostCard(CARD_TEMPLATE, summarise(campaigns[pk], now=now)) for pk in sorted(set(ids))]
        for post_id, ids in by_post.items()
    }


def campaign_state_label(campaign: Campaign) -> str:
    """The honest headline of a campaign: a failed or cancelled one says whether every paid
    sign-up has its money back yet ("未成团，已全额退款") or not ("未成团，退款中")."""
    label = campaign.get_status_display()
    if campaign.status not in (CampaignStatus.FAILED, CampaignStatus.CANCELLED):
        return label
    paid = SignUp.objects.filter(campaign=campaign, order__paid_at__isnull=False)
    if not paid.exists():
        return label
    owed = paid.filter(Q(status=SignUpStatus.CONFIRMED) | Q(order__refunded_fen__lt=F("order__total_fen"))).exists()
    if owed:
        return _("%(status)s，退款中") % {"status": label}
    return _("%(status)s，已全额退款") % {"status": label}


@dataclass(frozen=True)
class ListEntry:
    sequence: int
    name: str  # masked
    text: str  # "×2 三文鱼 500g"
    leader_id: int


def live_list(campaign: Campaign, *, leader: Leader | None = None) -> list[ListEntry]:
    """Confirmed sign-ups in payment order, numbered by their place on the list: "1. 王** ×2 三文鱼
    500g" (names masked). The numbers are always 1..N: when a paid sign-up leaves (refunded), the
    ones after it move up, as in a 接龙 where someone withdraws; the stored ``sequence`` (given at
    payment, never reused) only orders the list. A leader's view shows their rows with the same
    numbers as the whole list."""
    sign_ups = (
        SignUp.objects.filter(campaign=campaign, status=SignUpStatus.CONFIRMED)
        .select_related("user")
        .prefetch_related(
            Prefetch("lines", queryset=SignUpLine.objects.filter(units__gt=0).select_related("item__sku__product"))
        )
        .order_by("sequence")
    )
    entries = []
    for position, sign_up in enumerate(sign_ups, start=1):
        if leader is not None and sign_up.leader_id != leader.pk:
            continue
        text = _("，").join(
            f"×{line.units} {line.item.sku.product.title} {line.item.sku.spec}".rstrip() for line in sign_up.lines.all()
        )
        entries.append(
            ListEntry(
                sequence=position,
                name=mask_name(sign_up.user.display_name),
                text=text,
                leader_id=sign_up.leader_id,
            )
        )
    return entries


def with_position(sign_ups: QuerySet[SignUp]) -> QuerySet[SignUp]:
    """Each sign-up with ``position``: its number on its campaign's live list when confirmed (see
    ``live_list``), in one correlated count per row (a member's handful of sign-ups)."""
    ahead = (
        SignUp.objects.filter(
            campaign_id=OuterRef("campaign_id"), status=SignUpStatus.CONFIRMED, sequence__lte=OuterRef("sequence")
        )
        .order_by()
        .values("campaign_id")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return sign_ups.annotate(position=Subquery(ahead, output_field=IntegerField()))


# --- leaders -----------------------------------------------------------------------


def active_leader(user: Any, shop: Shop | None = None) -> Leader:
    """The caller's active leader role (in ``shop`` when given); else 403 not_a_leader."""
    if not getattr(user, "is_authenticated", False):
        raise NotAuthenticated(_("请先登录"))
    leaders = Leader.objects.filter(user=user, status=LeaderStatus.ACTIVE, pickup_point__isnull=False)
    if shop is not None:
        leaders = leaders.filter(shop=shop)
    leader = leaders.select_related("shop", "pickup_point", "community").order_by("id").first()
    if leader is None:
        raise NotALeader(_("你还不是在职团长"))
    return leader


def leader_campaigns(leader: Leader) -> QuerySet[Campaign]:
    return with_items(Campaign.objects.filter(leaders=leader)).order_by("-deadline", "-id")


def access_leader_campaign(leader: Leader, campaign_id: int) -> Campaign:
    campaign = leader_campaigns(leader).filter(pk=campaign_id).first()
    if campaign is None:
        raise CampaignNotFound(_("接龙不存在"))
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
        raise CampaignNotFound(_("接龙不存在"))
    return campaign


def access_leader(shop: Shop, leader_id: int) -> Leader:
    leader = (
        Leader.objects.filter(shop=shop, pk=leader_id, status=LeaderStatus.ACTIVE, pickup_point__isnull=False)
        .select_related("community", "pickup_point")
        .first()
    )
    if leader is None:
        raise LeaderNotFound(_("团长不存在或未在职"))
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


@dataclass(frozen=True)
class ItemBooks:
    """One campaign item's units, gate and database side by side (the reconciler's figures)."""

    item_id: int
    stock_limit: int
    at_gate: int  # units the gate may still admit
    sold: int  # units live sign-ups hold (the counter)
    held_by_lines: int  # the same, summed from the sign-ups' lines
    paid: int
    gate_ready: bool

    @property
    def queued(self) -> int:
        """Units admitted at the gate that the consumer has not written yet (0 once drained)."""
        return self.stock_limit - self.at_gate - self.sold

    @property
    def ok(self) -> bool:
        """Drained: at the gate + held by sign-ups = stock limit, and the counter matches the lines."""
        return self.gate_ready and self.queued == 0 and self.sold == self.held_by_lines


def reconcile(item: CampaignItem) -> ItemBooks:
    state = get_gate().state(pool_key(item.pk))
    item = CampaignItem.objects.get(pk=item.pk)
    held = SignUpLine.objects.filter(item=item, sign_up__status__in=LIVE_STATUSES).aggregate(units=Sum("units"))
    return ItemBooks(
        item_id=item.pk,
        stock_limit=item.stock_limit,
        at_gate=state.units_left,
        sold=item.sold,
        held_by_lines=held["units"] or 0,
        paid=item.paid_units,
        gate_ready=state.ready,
    )


def units_left(item: CampaignItem, campaign_status: str) -> int:
    """What members can still sign up for: the gate's figure while the campaign takes sign-ups and
    the gate holds the item's pool (claims admitted but not yet written are taken already), the
    tables' otherwise."""
    if campaign_status == CampaignStatus.OPEN:
        state = get_gate().state(pool_key(item.pk))
        if state.ready:
            return state.units_left
    return max(0, item.stock_limit - item.sold)


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
