"""Every write of coupons. ``check_*`` validates and authorises, the rest changes data.

Concurrency (ARCHITECTURE.md rule 5): a template's ``remaining`` only moves by one conditional
``F()`` UPDATE (``_draw``), which also holds the template's row until the transaction ends, so the
per-person count read after it is exact and the last N coupons go to exactly N claimers. A member
coupon's status only moves through ``state.move`` (conditional on the old status).

Other apps call: ``issue`` (a lottery prize: keep its signature stable), ``create_amounts_template``
and ``issue_amounts`` (a red packet paid as coupons), and, from orders' checkout, ``take`` /
``give_back`` / ``retake``.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import CharField, Count, DateTimeField, F, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shequn.catalog.kinds import ProductKind
from shequn.catalog.models import Category, Product, Sku
from shequn.communities.models import Community, CommunityMembership, Post
from shequn.communities.selectors import current_q, is_community_member
from shequn.core import audit
from shequn.core.errors import DomainError, NotAuthenticated
from shequn.core.i18n import readers_by_language
from shequn.core.money import format_fen
from shequn.core.sql import insert_from, insert_values
from shequn.notifications.actions import notify_from
from shequn.shops import permissions
from shequn.shops.models import Shop
from shequn.shops.selectors import require_permission

from . import rules, selectors, state
from .enums import USABLE_STATUSES, CouponKind, CouponScope, CouponSource, CouponStatus, Validity
from .errors import (
    CouponInvalid,
    CouponLimitReached,
    CouponMembersOnly,
    CouponNotClaimable,
    CouponNotFound,
    CouponSoldOut,
)
from .models import CouponTemplate, MemberCoupon, PostCoupon

MAX_NAME_LENGTH = 40
MAX_QUANTITY = 1_000_000
MAX_PER_PERSON = 100
MAX_VALID_DAYS = 365
MAX_AMOUNT_FEN = 10_000_000  # ¥100,000: far above any coupon, far below MAX_FEN
MAX_RECIPIENTS = 2_000  # phone numbers pasted at once

# RULES.md: no reward of any kind for sharing, posting to Moments or inviting friends. No field of a
# coupon can express such a condition; the one free text a member reads (its name) is refused when
# it announces one, so a coupon cannot even pretend to require it.
INDUCEMENT_WORDS = ("分享", "转发", "朋友圈", "邀请", "拉新", "好友助力", "助力", "集赞", "share", "invite", "moments")

# A red packet's template (``create_amounts_template``) is never edited: active or claimable, it would give ¥0 coupons.
RED_PACKET_TEMPLATE_FROZEN = gettext_lazy("这是红包以优惠券发放时生成的券，不能编辑")
# The rules that decide what a coupon is worth: frozen once a member holds one.
FROZEN_FIELDS = {
    "kind": gettext_lazy("类型"),
    "threshold_fen": gettext_lazy("门槛"),
    "amount_fen": gettext_lazy("减免金额"),
    "percent_off": gettext_lazy("折扣"),
    "cap_fen": gettext_lazy("最多减免"),
    "free_sku_id": gettext_lazy("赠品"),
    "scope": gettext_lazy("适用商品"),
    "scope_ids": gettext_lazy("适用分类或商品"),
    "community_id": gettext_lazy("适用人群"),
    "validity": gettext_lazy("有效期"),
    "valid_from": gettext_lazy("生效时间"),
    "valid_until": gettext_lazy("失效时间"),
    "valid_days": gettext_lazy("有效天数"),
    "per_person_limit": gettext_lazy("每人限领"),
    "with_member_prices": gettext_lazy("与会员价同享"),
}


@dataclass
class TemplateInput:
    """A template as the console form or the API gives it (amounts in fen)."""

    name: str
    kind: str
    total_quantity: int
    threshold_fen: int = 0
    amount_fen: int = 0
    percent_off: int = 0
    cap_fen: int | None = None
    free_sku_id: int | None = None
    scope: str = CouponScope.SHOP
    category_ids: list[int] = field(default_factory=list)
    product_ids: list[int] = field(default_factory=list)
    community_id: int | None = None
    validity: str = Validity.FIXED
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    valid_days: int | None = None
    per_person_limit: int = 1
    with_member_prices: bool = False
    claimable: bool = True
    welcome_community_id: int | None = None
    is_active: bool = True


def _invalid(message: str, field_name: str) -> CouponInvalid:
    return CouponInvalid(message, details={"field": field_name})


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise _invalid(_("请填写优惠券名称"), "name")
    if len(name) > MAX_NAME_LENGTH:
        raise _invalid(_("名称最多 %(count)d 个字") % {"count": MAX_NAME_LENGTH}, "name")
    lowered = name.lower()
    if any(word in lowered for word in INDUCEMENT_WORDS):
        raise _invalid(
            _("优惠券不能以分享、转发朋友圈或邀请好友为条件或奖励（微信规则禁止诱导分享），请修改名称"), "name"
        )
    return name


def _check_amounts(data: TemplateInput) -> None:
    for name in ("threshold_fen", "amount_fen"):
        if not 0 <= getattr(data, name) <= MAX_AMOUNT_FEN:
            raise _invalid(_("金额应在 ¥0 到 %(max)s 之间") % {"max": format_fen(MAX_AMOUNT_FEN)}, name)
    if data.kind == CouponKind.THRESHOLD:
        if data.threshold_fen <= 0:
            raise _invalid(_("满减券请填写门槛金额"), "threshold_fen")
        if not 0 < data.amount_fen < data.threshold_fen:
            raise _invalid(_("减免金额应大于 ¥0 且小于门槛金额"), "amount_fen")
    elif data.kind == CouponKind.NO_THRESHOLD:
        if data.amount_fen <= 0:
            raise _invalid(_("请填写减免金额"), "amount_fen")
        if data.threshold_fen:
            raise _invalid(_("无门槛券不能设置门槛，请改用满减券"), "threshold_fen")
    elif data.kind == CouponKind.PERCENT:
        if not 1 <= data.percent_off <= 99:
            raise _invalid(_("折扣力度应在 1% 到 99% 之间（即 9.9 折到 0.1 折）"), "percent_off")
        if data.cap_fen is not None and not 0 < data.cap_fen <= MAX_AMOUNT_FEN:
            raise _invalid(_("最多减免金额应大于 ¥0"), "cap_fen")
    elif data.kind == CouponKind.FREE_ITEM:
        if data.free_sku_id is None:
            raise _invalid(_("请选择赠品"), "free_sku_id")
    else:
        raise _invalid(_("请选择优惠券类型"), "kind")


def _check_validity(data: TemplateInput, now: datetime) -> None:
    if data.validity == Validity.FIXED:
        if data.valid_from is None or data.valid_until is None:
            raise _invalid(_("请填写生效和失效时间"), "valid_until")
        if data.valid_until <= data.valid_from:
            raise _invalid(_("失效时间应晚于生效时间"), "valid_until")
        if data.valid_until <= now:
            raise _invalid(_("失效时间已过，请重新选择"), "valid_until")
    elif data.validity == Validity.DAYS:
        if data.valid_days is None or not 1 <= data.valid_days <= MAX_VALID_DAYS:
            raise _invalid(_("有效天数应在 1 到 %(max)d 天之间") % {"max": MAX_VALID_DAYS}, "valid_days")
    else:
        raise _invalid(_("请选择有效期类型"), "validity")


def _community_of(shop: Shop, community_id: int | None, field_name: str) -> Community | None:
    if community_id is None:
        return None
    community = Community.objects.filter(pk=community_id, shop=shop).first()
    if community is None:
        raise _invalid(_("社群不存在"), field_name)
    return community


def check_template(shop: Shop, data: TemplateInput, *, now: datetime | None = None) -> dict[str, Any]:
    """Validate a template's fields against the rules and the shop's own rows; returns what to save."""
    now = now or timezone.now()
    name = check_name(data.name)
    _check_amounts(data)
    _check_validity(data, now)
    if not 1 <= data.total_quantity <= MAX_QUANTITY:
        raise _invalid(_("发放总量应在 1 到 %(max)d 张之间") % {"max": MAX_QUANTITY}, "total_quantity")
    if not 1 <= data.per_person_limit <= MAX_PER_PERSON:
        raise _invalid(_("每人限领应在 1 到 %(max)d 张之间") % {"max": MAX_PER_PERSON}, "per_person_limit")
    free_sku = None
    if data.kind == CouponKind.FREE_ITEM:
        free_sku = Sku.objects.filter(
            pk=data.free_sku_id or 0, shop=shop, is_active=True, product__kind=ProductKind.GOODS
        ).first()
        if free_sku is None:
            raise _invalid(_("赠品不存在或已停售"), "free_sku_id")
    scope_ids: list[int] = []
    if data.scope == CouponScope.CATEGORIES:
        scope_ids = sorted(Category.objects.filter(shop=shop, pk__in=data.category_ids).values_list("pk", flat=True))
        if not scope_ids or len(scope_ids) != len(set(data.category_ids)):
            raise _invalid(_("请选择本店的商品分类"), "category_ids")
    elif data.scope == CouponScope.PRODUCTS:
        products = Product.objects.filter(shop=shop, kind=ProductKind.GOODS, pk__in=data.product_ids)
        scope_ids = sorted(products.values_list("pk", flat=True))
        if not scope_ids or len(scope_ids) != len(set(data.product_ids)):
            raise _invalid(_("请选择本店的商品"), "product_ids")
    elif data.scope != CouponScope.SHOP:
        raise _invalid(_("请选择适用商品范围"), "scope")
    community = _community_of(shop, data.community_id, "community_id")
    welcome = _community_of(shop, data.welcome_community_id, "welcome_community_id")
    if community is not None and welcome is not None and welcome != community:
        raise _invalid(_("入群礼只能发给本券适用的社群"), "welcome_community_id")
    fixed = data.validity == Validity.FIXED
    values = {
        "name": name,
        "kind": data.kind,
        "threshold_fen": data.threshold_fen,
        "amount_fen": data.amount_fen if data.kind in (CouponKind.THRESHOLD, CouponKind.NO_THRESHOLD) else 0,
        "percent_off": data.percent_off if data.kind == CouponKind.PERCENT else 0,
        "cap_fen": data.cap_fen if data.kind == CouponKind.PERCENT else None,
        "free_sku": free_sku,
        "scope": data.scope,
        "scope_ids": scope_ids,
        "community": community,
        "validity": data.validity,
        "valid_from": data.valid_from if fixed else None,
        "valid_until": data.valid_until if fixed else None,
        "valid_days": None if fixed else data.valid_days,
        "per_person_limit": data.per_person_limit,
        "with_member_prices": data.with_member_prices,
        "claimable": data.claimable,
        "welcome_community": welcome,
        "is_active": data.is_active,
    }
    return values


def create_template(shop: Shop, actor: Any, data: TemplateInput, *, ip: str | None = None) -> CouponTemplate:
    require_permission(actor, shop, permissions.MANAGE_CATALOG)
    checked = check_template(shop, data)
    with transaction.atomic():
        template = CouponTemplate.objects.create(
            shop=shop,
            created_by=actor,
            total_quantity=data.total_quantity,
            remaining=data.total_quantity,
            **checked,
        )
        audit.record(actor=actor, shop=shop, action="coupon.create", obj=template, ip=ip, name=template.name)
    return template


def _frozen_values(template: CouponTemplate) -> dict[str, Any]:
    return {
        "kind": template.kind,
        "threshold_fen": template.threshold_fen,
        "amount_fen": template.amount_fen,
        "percent_off": template.percent_off,
        "cap_fen": template.cap_fen,
        "free_sku_id": template.free_sku_id,
        "scope": template.scope,
        "scope_ids": sorted(template.scope_ids),
        "community_id": template.community_id,
        "validity": template.validity,
        "valid_from": template.valid_from,
        "valid_until": template.valid_until,
        "valid_days": template.valid_days,
        "per_person_limit": template.per_person_limit,
        "with_member_prices": template.with_member_prices,
    }


def _new_frozen_values(values: dict[str, Any]) -> dict[str, Any]:
    return {
        **{name: values[name] for name in FROZEN_FIELDS if name in values},
        "free_sku_id": values["free_sku"].pk if values["free_sku"] else None,
        "community_id": values["community"].pk if values["community"] else None,
    }


def update_template(
    shop: Shop, actor: Any, template_id: int, data: TemplateInput, *, ip: str | None = None
) -> CouponTemplate:
    """Edit a template. Once a member holds one of its coupons, the rules that decide its worth are
    frozen (a changed one is refused, naming it); name, quantity (not below what was issued),
    claimability, the welcome community and on/off may still change."""
    require_permission(actor, shop, permissions.MANAGE_CATALOG)
    with transaction.atomic():
        template = selectors.access_template(shop, template_id, lock=True)
        if template.own_amounts:
            # Its coupons' amounts are the red packet's parts: made active or claimable it would give ¥0 coupons.
            raise CouponNotClaimable(str(RED_PACKET_TEMPLATE_FROZEN))
        issued = template.issued + template.reserved  # held by members or promised as prizes
        if issued:
            # Dates already passed are not an error on a template members hold (it is frozen anyway).
            checked = check_template(shop, data, now=min(timezone.now(), template.created_at))
            before, after = _frozen_values(template), _new_frozen_values(checked)
            changed = [name for name in FROZEN_FIELDS if before[name] != after[name]]
            if changed:
                raise _invalid(
                    _("已有会员领取，不能再修改「%(field)s」") % {"field": FROZEN_FIELDS[changed[0]]}, changed[0]
                )
        else:
            checked = check_template(shop, data)
        if data.total_quantity < issued:
            raise _invalid(
                _("已发放或预留为奖品 %(issued)d 张，发放总量不能少于这个数量") % {"issued": issued}, "total_quantity"
            )
        if not 1 <= data.total_quantity <= MAX_QUANTITY:
            raise _invalid(_("发放总量应在 1 到 %(max)d 张之间") % {"max": MAX_QUANTITY}, "total_quantity")
        delta = data.total_quantity - template.total_quantity
        for name, value in checked.items():
            setattr(template, name, value)
        template.save(update_fields=[*checked, "updated_at"])
        # The row is locked: remaining moves by the change of the total, as one F() update.
        CouponTemplate.objects.filter(pk=template.pk).update(
            total_quantity=data.total_quantity, remaining=F("remaining") + delta
        )
        template.refresh_from_db(fields=["total_quantity", "remaining"])
        audit.record(actor=actor, shop=shop, action="coupon.update", obj=template, ip=ip, name=template.name)
    return template


# --- claiming and issuing --------------------------------------------------------------


def _window(template: CouponTemplate, now: datetime) -> tuple[datetime, datetime]:
    """A new coupon's validity: the template's fixed dates, or N days from now."""
    if template.validity == Validity.FIXED:
        assert template.valid_from is not None
        assert template.valid_until is not None
        return template.valid_from, template.valid_until
    return now, now + timedelta(days=template.valid_days or 1)


def _check_open(template: CouponTemplate, now: datetime) -> None:
    if not template.is_active or (template.validity == Validity.FIXED and template.valid_until <= now):  # type: ignore[operator]
        raise CouponNotClaimable(_("这张优惠券已停止发放"))


def _check_audience(template: CouponTemplate, user: Any) -> None:
    if template.community is not None and not is_community_member(user, template.community):
        raise CouponMembersOnly(rules.members_only(template), details={"community_id": template.community_id})


def _draw(template: CouponTemplate, count: int) -> bool:
    """Take ``count`` coupons from the template's remaining, or none (one conditional UPDATE; on
    PostgreSQL it holds the template row until the caller's transaction ends)."""
    return (
        CouponTemplate.objects.filter(pk=template.pk, is_active=True, remaining__gte=count).update(
            remaining=F("remaining") - count
        )
        == 1
    )


def _issue_one(
    template: CouponTemplate, user: Any, source: str, now: datetime, post: Post | None = None
) -> MemberCoupon:
    with transaction.atomic():
        if not _draw(template, 1):
            raise CouponSoldOut(_("优惠券已经被领完了"))
        # The template row is ours until commit: no other claim of it can count in between.
        held = MemberCoupon.objects.filter(template=template, user=user).count()
        if held >= template.per_person_limit:
            raise CouponLimitReached(
                _("每人限领 %(limit)d 张，你已经领过了") % {"limit": template.per_person_limit},
                details={"limit": template.per_person_limit},
            )
        return _create(template, user, source, now, post)


def _create(template: CouponTemplate, user: Any, source: str, now: datetime, post: Post | None = None) -> MemberCoupon:
    valid_from, valid_until = _window(template, now)
    coupon = MemberCoupon.objects.create(
        template=template,
        shop_id=template.shop_id,
        user=user,
        source=source,
        post=post,
        valid_from=valid_from,
        valid_until=valid_until,
        claimed_at=now,
    )
    state.record_issued([coupon], note=str(CouponSource(source).label), now=now)
    return coupon


def claim(user: Any, template_id: int, *, post_id: int | None = None) -> MemberCoupon:
    """A member claims a coupon in the claim centre, or from a card under a post (``post_id``)."""
    if not getattr(user, "is_authenticated", False):
        raise NotAuthenticated(_("请先登录再领券"), code="not_authenticated")
    template = selectors.active_template(template_id)
    now = timezone.now()
    post = None
    if post_id is not None:
        card = PostCoupon.objects.filter(post_id=post_id, template=template).select_related("post").first()
        if card is None:
            raise CouponNotFound(_("优惠券不存在"))
        post = card.post
    if not template.claimable:
        raise CouponNotClaimable(_("这张优惠券不能自行领取"))
    _check_open(template, now)
    _check_audience(template, user)
    return _issue_one(template, user, CouponSource.POST if post else CouponSource.CENTRE, now, post)


def issue(template: CouponTemplate, member: Any, *, source: str) -> MemberCoupon:
    """Give ``member`` one coupon of ``template`` (a welcome gift): the stable entry point for other
    apps (a lottery prize uses ``issue_reserved``). It draws from the template's quantity and
    respects its per-person limit and audience; raises ``CouponNotClaimable`` (stopped or over),
    ``CouponMembersOnly``, ``CouponSoldOut`` or ``CouponLimitReached``, having written nothing."""
    if source not in CouponSource.values:
        raise ValueError(f"unknown coupon source {source!r}")
    now = timezone.now()
    _check_open(template, now)
    _check_audience(template, member)
    return _issue_one(template, member, source, now)


def reserve(template_id: int, count: int) -> bool:
    """Set ``count`` coupons of an active template aside for prizes (a lottery's, at publication), so
    claims can never leave a winner without one: one conditional UPDATE, which holds the template row
    until the caller's transaction ends. False, having moved nothing, when fewer are left."""
    return (
        CouponTemplate.objects.filter(pk=template_id, is_active=True, remaining__gte=count).update(
            remaining=F("remaining") - count, reserved=F("reserved") + count
        )
        == 1
    )


def release(template_id: int, count: int) -> None:
    """Put coupons set aside and not given back into the template's remaining (prizes nobody won or
    claimed, or a lottery's prizes corrected before its start)."""
    if count:
        updated = CouponTemplate.objects.filter(pk=template_id, reserved__gte=count).update(
            remaining=F("remaining") + count, reserved=F("reserved") - count
        )
        assert updated == 1, f"template {template_id}: fewer than {count} coupons reserved"


def issue_reserved(template: CouponTemplate, member: Any, *, source: str) -> MemberCoupon:
    """Give ``member`` one coupon set aside by ``reserve`` (a lottery prize won). It was promised
    when the prize was published: whether the template is still on, its per-person limit and its
    audience no longer decide; its validity does. Raises ``CouponSoldOut`` when none is reserved."""
    with transaction.atomic():
        if CouponTemplate.objects.filter(pk=template.pk, reserved__gte=1).update(reserved=F("reserved") - 1) != 1:
            raise CouponSoldOut(_("优惠券已经被领完了"))
        return _create(template, member, source, timezone.now())


def create_amounts_template(shop: Shop, name: str, *, quantity: int, valid_days: int) -> CouponTemplate:
    """A 无门槛 template whose coupons each carry their own amount (``issue_amounts``): a red packet
    paid as coupons. Never claimable nor issued by staff (inactive, amount 0: its coupons alone are
    worth something); valid ``valid_days`` from each coupon's issue; shop-wide."""
    return CouponTemplate.objects.create(
        shop=shop,
        name=name[:MAX_NAME_LENGTH],
        kind=CouponKind.NO_THRESHOLD,
        validity=Validity.DAYS,
        valid_days=valid_days,
        total_quantity=quantity,
        remaining=quantity,
        claimable=False,
        is_active=False,
    )


def issue_amounts(
    template: CouponTemplate, amounts: Sequence[tuple[int, int]], *, source: str, now: datetime | None = None
) -> int:
    """Give each (member id, amount in fen) one coupon of ``template`` worth that amount, set-based:
    one conditional UPDATE of the template's remaining, one INSERT of the coupons, one INSERT …
    SELECT of their history, whatever the count. The caller has settled who gets what (a red
    packet's consumer, under the packet's lock); raises ``CouponSoldOut`` having written nothing."""
    if not amounts:
        return 0
    now = now or timezone.now()
    with transaction.atomic():
        drawn = CouponTemplate.objects.filter(pk=template.pk, remaining__gte=len(amounts)).update(
            remaining=F("remaining") - len(amounts)
        )
        if drawn != 1:
            raise CouponSoldOut(_("优惠券已经被领完了"))
        valid_from, valid_until = _window(template, now)
        ids = insert_values(
            MemberCoupon,
            [
                {
                    "template_id": template.pk,
                    "shop_id": template.shop_id,
                    "user_id": member_id,
                    "status": CouponStatus.CLAIMED,
                    "source": source,
                    "valid_from": valid_from,
                    "valid_until": valid_until,
                    "claimed_at": now,
                    "amount_fen": amount,
                }
                for member_id, amount in amounts
            ],
            returning=("id",),
        )
        issued = MemberCoupon.objects.filter(pk__any_of=[row[0] for row in ids])
        state.record_issued(issued, note=str(CouponSource(source).label), now=now)
    return len(amounts)


def welcome_new_member(sender: Any, membership: CommunityMembership, **kwargs: Any) -> None:
    """Receiver of ``communities.signals.member_joined``: the community's welcome coupons, one each
    (the per-person limit makes leaving and joining again give nothing more). A coupon that cannot
    be given (sold out, stopped) never stops the member from joining."""
    for template in CouponTemplate.objects.filter(
        welcome_community_id=membership.community_id, is_active=True
    ).select_related("community"):
        try:
            issue(template, membership.user, source=CouponSource.WELCOME)
        except DomainError:
            continue


@dataclass(frozen=True)
class IssueResult:
    issued: int  # coupons given
    skipped: int  # asked for but left out: not a member, over the per-person limit, or none left


def issue_to_members(
    shop: Shop,
    actor: Any,
    template_id: int,
    *,
    tag_id: int | None = None,
    phones: Sequence[str] = (),
    ip: str | None = None,
) -> IssueResult:
    """Staff give one coupon each to the current members of a tag, or to members of the shop's
    communities listed by phone number. Set-based (one INSERT … SELECT, one UPDATE, one history
    INSERT … SELECT, one inbox INSERT … SELECT, whatever the count); members over the per-person
    limit are skipped; when fewer coupons are left than recipients, the first by id get them. Audited."""
    require_permission(actor, shop, permissions.MANAGE_CATALOG)
    if (tag_id is None) == (not phones):
        raise _invalid(_("请选择一个标签，或填写会员手机号"), "recipients")
    if len(phones) > MAX_RECIPIENTS:
        raise _invalid(_("一次最多发给 %(max)d 个手机号") % {"max": MAX_RECIPIENTS}, "phones")
    now = timezone.now()
    with transaction.atomic():
        template = selectors.access_template(shop, template_id, lock=True)
        _check_open(template, now)
        members = CommunityMembership.objects.filter(current_q(now=now), community__shop=shop)
        if tag_id is not None:
            members = members.filter(tags__pk=tag_id)
        if template.community_id is not None:
            members = members.filter(community_id=template.community_id)
        users = get_user_model().objects.filter(pk__in=members.values("user_id"))
        if phones:
            users = users.filter(phone__in=[phone.strip() for phone in phones if phone.strip()])
        held = (
            MemberCoupon.objects.filter(template=template, user=OuterRef("pk"))
            .order_by()
            .values("user")
            .annotate(count=Count("pk"))
            .values("count")
        )
        recipients = users.annotate(held=Coalesce(Subquery(held, output_field=IntegerField()), 0)).filter(
            held__lt=template.per_person_limit
        )
        asked = len(phones) if phones else users.count()
        valid_from, valid_until = _window(template, now)
        issued = insert_from(
            MemberCoupon,
            ["template_id", "shop_id", "user_id", "status", "source", "valid_from", "valid_until", "claimed_at"],
            recipients.order_by("pk").values_list(
                Value(template.pk, output_field=IntegerField()),
                Value(shop.pk, output_field=IntegerField()),
                "pk",
                Value(CouponStatus.CLAIMED, output_field=CharField()),
                Value(CouponSource.STAFF, output_field=CharField()),
                Value(valid_from, output_field=DateTimeField()),
                Value(valid_until, output_field=DateTimeField()),
                Value(now, output_field=DateTimeField()),
            )[: template.remaining],
        )
        if issued and not _draw(template, issued):
            raise CouponSoldOut(_("优惠券已经被领完了"))  # unreachable under the row lock; rolls back
        written = MemberCoupon.objects.filter(template=template, source=CouponSource.STAFF, claimed_at=now)
        state.record_issued(written, note=str(CouponSource.STAFF.label), now=now)
        _notify_issued(template, written, now)
        audit.record(
            actor=actor,
            shop=shop,
            action="coupon.issue",
            obj=template,
            ip=ip,
            issued=issued,
            tag_id=tag_id,
            phones=len(phones),
        )
    return IssueResult(issued=issued, skipped=max(0, asked - issued))


def _notify_issued(template: CouponTemplate, coupons: Any, now: datetime) -> None:
    """Tell each holder of ``coupons``, one INSERT … SELECT per language."""
    for language, readers in readers_by_language("user__language"):
        with translation.override(language):
            title = _("你收到一张优惠券：%(name)s") % {"name": template.name}
            note = _("在「我的优惠券」中查看，结算时可用")
        notify_from(
            coupons.filter(readers).values_list(
                "user_id",
                Value(template.shop_id, output_field=IntegerField()),
                Value("coupon", output_field=CharField()),
                Value(title, output_field=CharField()),
                Value(note, output_field=CharField()),
                Value(reverse("coupons:mine"), output_field=CharField()),
                Value(now, output_field=DateTimeField()),
            )
        )


def put_on_post(shop: Shop, actor: Any, template_id: int, post_id: int, *, ip: str | None = None) -> PostCoupon:
    """Show a claimable coupon as a card under one of the shop's posts (members claim from it)."""
    require_permission(actor, shop, permissions.MANAGE_CATALOG)
    template = selectors.access_template(shop, template_id)
    if not template.claimable:
        raise _invalid(_("只有可自行领取的优惠券才能放进帖子"), "post_id")
    post = Post.objects.filter(pk=post_id, shop=shop).first()
    if post is None:
        raise _invalid(_("帖子不存在"), "post_id")
    card, _created = PostCoupon.objects.get_or_create(post=post, template=template)
    audit.record(actor=actor, shop=shop, action="coupon.post", obj=template, ip=ip, post_id=post.pk)
    return card


# --- orders: take, give back ------------------------------------------------------------


def take(coupon_ids: Sequence[int], *, now: datetime) -> set[int]:
    """Mark coupons used by orders being written (checkout's transaction); returns the ids taken.
    One that is no longer usable (used in another tab, expired) is not taken: its checkout is refused."""
    return set(state.move(coupon_ids, CouponStatus.USED, note=_("下单使用"), now=now, still_valid=True, used_at=now))


def give_back(coupon_id: int, *, note: str, now: datetime | None = None) -> str | None:
    """The coupon's order was cancelled, closed unpaid or refunded in full: the member has it back
    while its validity runs (returned), else it is over (expired). Returns the new status, None when
    it was not in use (nothing to give back)."""
    now = now or timezone.now()
    if state.move([coupon_id], CouponStatus.RETURNED, note=note, now=now, still_valid=True, used_at=None):
        return CouponStatus.RETURNED
    if state.move([coupon_id], CouponStatus.EXPIRED, note=note, now=now, still_valid=False):
        return CouponStatus.EXPIRED
    return None


def retake(coupon_id: int, *, now: datetime | None = None) -> bool:
    """A closed order came back (a late payment): use its coupon again, if still possible."""
    now = now or timezone.now()
    return bool(
        state.move([coupon_id], CouponStatus.USED, note=_("订单恢复，重新使用"), now=now, still_valid=True, used_at=now)
    )


def expire_coupons(*, now: datetime | None = None, limit: int = 10_000) -> int:
    """The sweeper: usable coupons whose validity ended become expired (one batch; returns how many)."""
    now = now or timezone.now()
    ids = list(
        MemberCoupon.objects.filter(status__in=USABLE_STATUSES, valid_until__lte=now)
        .order_by("valid_until", "id")
        .values_list("pk", flat=True)[:limit]
    )
    return len(state.move(ids, CouponStatus.EXPIRED, note=_("已过期"), now=now, still_valid=False))
