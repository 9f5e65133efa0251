"""Reads of coupons. ``access_*`` fetch an object scoped to the caller's shop (foreign ids look
absent)."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.communities.cards import PostCard
from shequn.communities.models import CommunityMembership, Post
from shequn.communities.selectors import current_q
from shequn.shops.enums import ShopStatus
from shequn.shops.models import Shop

from .enums import USABLE_STATUSES, CouponStatus, Validity
from .errors import CouponNotFound
from .models import CouponTemplate, MemberCoupon, PostCoupon
from .rules import describe

TEMPLATE_RELATED = ("community", "free_sku__product", "shop")


def audience_of(user: Any, templates: Iterable[CouponTemplate], now: datetime | None = None) -> set[int]:
    """The ids of the templates ``user`` may claim and use by audience: those for everyone, and
    those of a community the user is a current member of (one query, none when no template has one)."""
    templates = list(templates)
    communities = {t.community_id for t in templates if t.community_id is not None}
    member_of: set[int] = set()
    if communities and getattr(user, "is_authenticated", False):
        member_of = set(
            CommunityMembership.objects.filter(current_q(now=now), user=user, community_id__in=communities).values_list(
                "community_id", flat=True
            )
        )
    return {t.pk for t in templates if t.community_id is None or t.community_id in member_of}


def usable_coupons(user: Any, shop: Shop, now: datetime | None = None) -> list[MemberCoupon]:
    """The member's coupons of ``shop`` that could still be applied (usable, validity not over),
    expiring first first, with what ``rules.offer`` reads."""
    now = now or timezone.now()
    coupons = list(
        MemberCoupon.objects.filter(user=user, shop=shop, status__in=USABLE_STATUSES, valid_until__gt=now)
        .select_related(*(f"template__{name}" for name in TEMPLATE_RELATED))
        .order_by("valid_until", "id")[:50]
    )
    return coupons


def checkout_coupons(coupon_ids: Iterable[int]) -> dict[int, MemberCoupon]:
    """Coupons chosen at checkout, by id, with what ``rules.offer`` reads (read once for a
    group-committed batch; checkout compares each one's owner with its buyer)."""
    # The template alone: its community and free item are read only to word a refusal (checkout's
    # hot path builds no more model instances than it needs; bench/checkout_coupon.py).
    coupons = {
        coupon.pk: coupon for coupon in MemberCoupon.objects.filter(pk__in=set(coupon_ids)).select_related("template")
    }
    return coupons


def checkout_coupon(user: Any, coupon_id: int) -> MemberCoupon:
    """The member's own coupon chosen at checkout (another member's id looks absent)."""
    coupon = checkout_coupons([coupon_id]).get(coupon_id)
    if coupon is None or coupon.user_id != user.pk:
        raise CouponNotFound(_("优惠券不存在"))
    return coupon


def claimable_q(now: datetime) -> Q:
    """Templates members may claim now: on, claimable, some left, and (fixed dates) not over."""
    return Q(is_active=True, claimable=True, remaining__gt=0) & (Q(validity=Validity.DAYS) | Q(valid_until__gt=now))


def claim_centre(shop_slug: str | None = None, now: datetime | None = None) -> QuerySet[CouponTemplate]:
    """领券中心: what members may claim now, newest first (of one shop when ``shop_slug`` is given)."""
    templates = CouponTemplate.objects.filter(claimable_q(now or timezone.now()), shop__status=ShopStatus.ACTIVE)
    if shop_slug:
        templates = templates.filter(shop__slug=shop_slug)
    return templates.select_related(*TEMPLATE_RELATED)


def held_counts(user: Any, template_ids: Iterable[int]) -> dict[int, int]:
    """How many coupons of each template the member holds or held (the per-person limit counts them all)."""
    if not getattr(user, "is_authenticated", False):
        return {}
    return dict(
        MemberCoupon.objects.filter(user=user, template_id__in=set(template_ids))
        .values_list("template_id")
        .annotate(count=Count("id"))
        .values_list("template_id", "count")
    )


MY_TABS = {
    "usable": Q(status__in=USABLE_STATUSES),
    "used": Q(status=CouponStatus.USED),
    "expired": Q(status=CouponStatus.EXPIRED),
}


def my_coupons(user: Any, tab: str, now: datetime | None = None) -> QuerySet[MemberCoupon]:
    """我的优惠券: usable (validity not over), used (with the order), expired (including usable
    ones whose validity ended before the sweeper marked them)."""
    now = now or timezone.now()
    coupons = MemberCoupon.objects.filter(user=user)
    if tab == "used":
        coupons = coupons.filter(MY_TABS["used"])
    elif tab == "expired":
        coupons = coupons.filter(MY_TABS["expired"] | (MY_TABS["usable"] & Q(valid_until__lte=now)))
    else:
        coupons = coupons.filter(MY_TABS["usable"], valid_until__gt=now)
    return coupons.select_related(*(f"template__{name}" for name in TEMPLATE_RELATED)).order_by("valid_until", "id")


def shop_templates(shop: Shop) -> QuerySet[CouponTemplate]:
    return CouponTemplate.objects.filter(shop=shop).select_related(*TEMPLATE_RELATED)


def access_template(shop: Shop, template_id: int, *, lock: bool = False) -> CouponTemplate:
    templates = CouponTemplate.objects.filter(shop=shop, pk=template_id)
    if lock:
        templates = templates.select_for_update()
    template = templates.select_related(*TEMPLATE_RELATED).first()
    if template is None:
        raise CouponNotFound(_("优惠券不存在"))
    return template


def active_template(template_id: int) -> CouponTemplate:
    template = CouponTemplate.objects.filter(pk=template_id).select_related(*TEMPLATE_RELATED).first()
    if template is None or template.shop.status != ShopStatus.ACTIVE:
        raise CouponNotFound(_("优惠券不存在"))
    return template


@dataclass(frozen=True)
class TemplateFigures:
    """A template's figures for the console: what it cost and what it brought."""

    issued: int  # claimed or issued
    used: int  # applied to an order that was paid and not given back
    cost_fen: int  # the discount those orders got
    orders: int  # paid orders that used one
    sales_fen: int  # what those orders' buyers paid (net of refunds)


def template_figures(templates: Sequence[CouponTemplate]) -> dict[int, TemplateFigures]:
    """Figures of many templates in one query. A coupon given back (its order cancelled or
    refunded in full) counts as issued, not used, and such an order neither as cost nor as sales."""
    ids = [t.pk for t in templates]
    used = {
        row["template_id"]: row
        for row in MemberCoupon.objects.filter(template_id__in=ids, status=CouponStatus.USED)
        # One join for the filter and the sums: paid orders whose goods were not refunded in full.
        .filter(
            orders__paid_at__isnull=False,
            orders__refunded_fen__lt=F("orders__total_fen") - F("orders__shipping_fee_fen"),
        )
        .values("template_id")
        .annotate(
            used_count=Count("id", distinct=True),
            cost=Sum("orders__discount_fen"),
            order_count=Count("orders", distinct=True),
            paid=Sum("orders__total_fen"),
            refunded=Sum("orders__refunded_fen"),
        )
    }
    figures = {}
    for template in templates:
        row: dict[str, Any] = dict(used.get(template.pk, {}))
        figures[template.pk] = TemplateFigures(
            issued=template.issued,
            used=row.get("used_count", 0),
            cost_fen=row.get("cost") or 0,
            orders=row.get("order_count", 0),
            sales_fen=(row.get("paid") or 0) - (row.get("refunded") or 0),
        )
    return figures


def issued_amounts_fen(template: CouponTemplate) -> int:
    """What the coupons of a red packet's template are worth together (each its own amount)."""
    return MemberCoupon.objects.filter(template=template).aggregate(total=Sum("amount_fen"))["total"] or 0


@dataclass(frozen=True)
class CouponCard:
    """What a coupon card under a post shows, and where its claim button posts."""

    template: CouponTemplate
    face: str
    post_id: int


def post_cards(posts: Sequence[Post]) -> dict[int, list[PostCard]]:
    """The coupon cards of a page of posts (one query), for ``communities.cards``."""
    cards: dict[int, list[PostCard]] = defaultdict(list)
    now = timezone.now()
    for card in (
        PostCoupon.objects.filter(post_id__in=[post.pk for post in posts])
        .filter(template__in=CouponTemplate.objects.filter(claimable_q(now)))
        .select_related(*(f"template__{name}" for name in TEMPLATE_RELATED))
    ):
        data = CouponCard(template=card.template, face=describe(card.template), post_id=card.post_id)
        cards[card.post_id].append(PostCard(template="coupons/_post_card.html", data=data))
    return cards


def shop_posts(shop: Shop) -> QuerySet[Post]:
    """Recent posts of the shop's communities a coupon card may be put under."""
    return Post.objects.filter(shop=shop).select_related("community").order_by("-id")[:50]
