"""Every distribution write. ``check_*`` validates and authorises, ``do_*`` changes data.

Joining is free and needs no purchase; staff decisions and settings changes are audited in
the same transaction; members hear about decisions in their inbox. Settings and rules can
express only what RULES.md allows, and anything else sent by a client is refused by name.
"""

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings as django_settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shequn.catalog.kinds import ProductKind
from shequn.catalog.models import Category, Product
from shequn.core import audit
from shequn.core.errors import InvalidInput, NotAuthenticated
from shequn.core.i18n import in_language_of
from shequn.notifications.actions import notify
from shequn.shops.models import Shop

from . import selectors
from .enums import Attribution, PromoterStatus, RuleKind, RuleScope
from .errors import (
    AlreadyPromoter,
    InvalidPromoterTransition,
    InvalidRule,
    JoinFeeForbidden,
    RecruitmentBonusForbidden,
    ReferralCycle,
    SelfReferral,
    TeamBonusForbidden,
    TierLimit,
)
from .models import Binding, CommissionRule, DistributionSettings, Promoter, PromoterLevel, Visit

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
MAX_TIERS = 2
MAX_PERCENT_BP = 5000  # tier 1 + tier 2 together at most half of what the buyer paid
MAX_BINDING_DAYS = 365
TARGET_MAX = 200

TIER_LIMIT_MESSAGE = gettext_lazy("分销最多两级：不能设置第三级佣金")
JOIN_FEE_MESSAGE = gettext_lazy("成为推广员必须免费，且不以购买为前提：不能设置入门费、购买门槛或推广员礼包")
RECRUITMENT_MESSAGE = gettext_lazy("不能按发展下线或注册人数发放奖励：佣金只来自真实成交")
TEAM_MESSAGE = gettext_lazy("不能按团队业绩发放奖励：佣金只来自推广员自己带来的真实成交")


# --- refusals (anti-pyramid) -----------------------------------------------------------


def _refuse_forbidden_key(key: str) -> None:
    """Name the rule a forbidden setting breaks; any other unknown key is a plain bad input."""
    k = key.lower()
    if any(word in k for word in ("tier3", "tier_3", "third", "level3", "tier4")):
        raise TierLimit(str(TIER_LIMIT_MESSAGE), details={"field": key})
    if any(word in k for word in ("fee", "purchase", "package", "deposit", "price", "pay")):
        raise JoinFeeForbidden(str(JOIN_FEE_MESSAGE), details={"field": key})
    if any(word in k for word in ("signup", "sign_up", "recruit", "invite", "register", "referral_bonus")):
        raise RecruitmentBonusForbidden(str(RECRUITMENT_MESSAGE), details={"field": key})
    if "team" in k or "downline" in k or "override" in k:
        raise TeamBonusForbidden(str(TEAM_MESSAGE), details={"field": key})
    raise InvalidInput(_("不支持的设置项：%(key)s") % {"key": key}, code="unknown_field", details={"field": key})


def _refuse_unknown(data: dict[str, Any], allowed: set[str]) -> None:
    for key in data:
        if key not in allowed:
            _refuse_forbidden_key(key)


# --- settings ------------------------------------------------------------------------

SETTINGS_FIELDS = {"enabled", "auto_approve", "tiers", "attribution", "binding_days"}


def check_settings(data: dict[str, Any]) -> dict[str, Any]:
    _refuse_unknown(data, SETTINGS_FIELDS)
    cleaned: dict[str, Any] = {}
    for key in ("enabled", "auto_approve"):
        if data.get(key) is not None:
            cleaned[key] = bool(data[key])
    if data.get("tiers") is not None:
        tiers = int(data["tiers"])
        if tiers > MAX_TIERS:
            raise TierLimit(str(TIER_LIMIT_MESSAGE), details={"field": "tiers"})
        if tiers < 1:
            raise InvalidInput(_("分销层级只能是 1 或 2"), code="invalid_settings", details={"field": "tiers"})
        cleaned["tier2_enabled"] = tiers == MAX_TIERS
    if data.get("attribution") is not None:
        if data["attribution"] not in Attribution.values:
            raise InvalidInput(_("归属方式只能是首次触达或最后触达"), code="invalid_settings")
        cleaned["attribution"] = data["attribution"]
    if data.get("binding_days") is not None:
        days = int(data["binding_days"])
        if not 1 <= days <= MAX_BINDING_DAYS:
            raise InvalidInput(
                _("绑定有效期须在 1 到 %(max)s 天之间") % {"max": MAX_BINDING_DAYS},
                code="invalid_settings",
            )
        cleaned["binding_days"] = days
    return cleaned


@transaction.atomic
def do_update_settings(actor: Any, shop: Shop, data: dict[str, Any], *, ip: str | None = None) -> DistributionSettings:
    cleaned = check_settings(data)
    DistributionSettings.objects.get_or_create(shop=shop)
    found = DistributionSettings.objects.select_for_update().get(shop=shop)
    for key, value in cleaned.items():
        setattr(found, key, value)
    found.save()
    audit.record(actor=actor, shop=shop, action="distribution.settings_updated", obj=found, ip=ip, **cleaned)
    return found


# --- rules ---------------------------------------------------------------------------

RULE_FIELDS = {"scope", "category_id", "product_id", "kind", "tier1_value", "tier2_value", "basis"}


def check_rule(shop: Shop, data: dict[str, Any]) -> dict[str, Any]:
    _refuse_unknown(data, RULE_FIELDS)
    basis = data.get("basis") or "sale"
    if basis in ("signup", "sign_up", "recruitment", "invite", "registration"):
        raise RecruitmentBonusForbidden(str(RECRUITMENT_MESSAGE), details={"field": "basis"})
    if basis in ("team", "team_sales", "downline_sales"):
        raise TeamBonusForbidden(str(TEAM_MESSAGE), details={"field": "basis"})
    if basis != "sale":
        raise InvalidRule(_("佣金只能按成交计算"), details={"field": "basis"})
    scope, kind = data.get("scope"), data.get("kind")
    if scope not in RuleScope.values:
        raise InvalidRule(_("请选择规则范围：全店、分类或商品"), details={"field": "scope"})
    if kind not in RuleKind.values:
        raise InvalidRule(_("请选择佣金方式：按比例或固定金额"), details={"field": "kind"})
    tier1, tier2 = int(data.get("tier1_value") or 0), int(data.get("tier2_value") or 0)
    if tier1 < 0 or tier2 < 0:
        raise InvalidRule(_("佣金不能为负数"))
    if tier1 == 0:
        raise InvalidRule(_("请填写一级佣金"), details={"field": "tier1_value"})
    if kind == RuleKind.PERCENT and tier1 + tier2 > MAX_PERCENT_BP:
        raise InvalidRule(_("一级与二级佣金合计不能超过成交额的 50%"), details={"field": "tier1_value"})
    cleaned: dict[str, Any] = {"scope": scope, "kind": kind, "tier1_value": tier1, "tier2_value": tier2}
    cleaned["category"] = cleaned["product"] = None
    if scope == RuleScope.CATEGORY:
        cleaned["category"] = Category.objects.filter(shop=shop, pk=data.get("category_id") or 0).first()
        if cleaned["category"] is None:
            raise InvalidRule(_("分类不存在"), details={"field": "category_id"})
    if scope == RuleScope.PRODUCT:
        cleaned["product"] = Product.objects.filter(shop=shop, pk=data.get("product_id") or 0).first()
        if cleaned["product"] is None:
            raise InvalidRule(_("商品不存在"), details={"field": "product_id"})
        if cleaned["product"].kind == ProductKind.MEMBERSHIP:
            raise InvalidRule(_("社群会费不计佣金：为拉人入会付费属于按人头计酬"), details={"field": "product_id"})
    return cleaned


@transaction.atomic
def do_save_rule(actor: Any, shop: Shop, data: dict[str, Any], *, ip: str | None = None) -> CommissionRule:
    """Create the rule for its target, or replace the target's existing rule."""
    cleaned = check_rule(shop, data)
    rule, created = CommissionRule.objects.select_for_update().update_or_create(
        shop=shop,
        scope=cleaned["scope"],
        category=cleaned["category"],
        product=cleaned["product"],
        defaults={k: cleaned[k] for k in ("kind", "tier1_value", "tier2_value")},
    )
    audit.record(
        actor=actor,
        shop=shop,
        action="distribution.rule_saved",
        obj=rule,
        ip=ip,
        created=created,
        kind=rule.kind,
        tier1_value=rule.tier1_value,
        tier2_value=rule.tier2_value,
    )
    return rule


@transaction.atomic
def do_delete_rule(actor: Any, shop: Shop, rule: CommissionRule, *, ip: str | None = None) -> None:
    audit.record(actor=actor, shop=shop, action="distribution.rule_deleted", obj=rule, ip=ip)
    rule.delete()


@transaction.atomic
def do_save_level(
    actor: Any, shop: Shop, *, name: str, min_sales_fen: int, extra_bp: int, ip: str | None = None
) -> PromoterLevel:
    """A level is reached by the promoter's own completed sales (never by recruiting)."""
    name = (name or "").strip()
    if not name or len(name) > 20:
        raise InvalidInput(_("等级名称须为 1 到 20 个字"), code="invalid_level")
    if min_sales_fen < 0 or not 0 <= extra_bp <= MAX_PERCENT_BP:
        raise InvalidInput(_("等级门槛与加成须为合理的非负数"), code="invalid_level")
    level, _created = PromoterLevel.objects.update_or_create(
        shop=shop, min_sales_fen=min_sales_fen, defaults={"name": name, "extra_bp": extra_bp}
    )
    audit.record(actor=actor, shop=shop, action="distribution.level_saved", obj=level, ip=ip, extra_bp=extra_bp)
    return level


def do_delete_level(actor: Any, shop: Shop, level: PromoterLevel, *, ip: str | None = None) -> None:
    """Promoters at this level fall back to the next lower one for commission from now on;
    commission already earned keeps its amount."""
    audit.record(actor=actor, shop=shop, action="distribution.level_deleted", obj=level, ip=ip, name=level.name)
    level.delete()


# --- promoters -----------------------------------------------------------------------


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def check_apply(user: Any, shop: Shop) -> None:
    if not getattr(user, "is_authenticated", False):
        raise NotAuthenticated(_("请先登录"), code="not_authenticated")
    if not selectors.shop_settings(shop).enabled:
        raise InvalidInput(_("本店暂未开放推广"), code="distribution_disabled")


@transaction.atomic
def do_apply(user: Any, shop: Shop) -> Promoter:
    """Apply to promote ``shop``: free, no purchase needed. A rejected member may apply again."""
    check_apply(user, shop)
    auto = selectors.shop_settings(shop).auto_approve
    status = PromoterStatus.APPROVED if auto else PromoterStatus.PENDING
    existing = Promoter.objects.select_for_update().filter(shop=shop, user=user).first()
    if existing is not None:
        if existing.status != PromoterStatus.REJECTED:
            raise AlreadyPromoter(_("你已申请过本店推广员"), details={"status": existing.status})
        existing.status, existing.decided_at = status, timezone.now() if auto else None
        existing.save(update_fields=["status", "decided_at"])
        return existing
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Promoter.objects.create(
                    shop=shop, user=user, code=_new_code(), status=status, decided_at=timezone.now() if auto else None
                )
        except IntegrityError:
            if Promoter.objects.filter(shop=shop, user=user).exists():
                raise AlreadyPromoter(_("你已申请过本店推广员")) from None
    raise InvalidInput(_("推广码生成失败，请重试"), code="code_generation_failed")


@transaction.atomic
def do_decide(actor: Any, shop: Shop, promoter: Promoter, *, approve: bool, ip: str | None = None) -> Promoter:
    promoter = Promoter.objects.select_for_update().get(pk=promoter.pk, shop=shop)
    if promoter.status != PromoterStatus.PENDING:
        raise InvalidPromoterTransition(_("该申请已处理"))
    promoter.status = PromoterStatus.APPROVED if approve else PromoterStatus.REJECTED
    promoter.decided_at = timezone.now()
    promoter.save(update_fields=["status", "decided_at"])
    audit.record(
        actor=actor,
        shop=shop,
        action="distribution.promoter_approved" if approve else "distribution.promoter_rejected",
        obj=promoter,
        ip=ip,
    )
    with in_language_of(promoter.user):
        notify(
            promoter.user,
            shop=shop,
            kind="distribution",
            title=_("推广员申请已通过") if approve else _("推广员申请未通过"),
            body=_("现在可以分享你的推广链接了") if approve else "",
            link="/promoter/",
        )
    return promoter


# --- visits and binding --------------------------------------------------------------


def device_hash(ip: str | None, user_agent: str) -> str:
    """A keyed hash of the visitor's address and browser: enough to group devices, not to identify them."""
    raw = f"{ip or ''}|{user_agent or ''}|{django_settings.SECRET_KEY}"
    return hashlib.sha256(raw.encode()).hexdigest()


def check_bind(promoter: Promoter, customer: Any) -> None:
    """No one binds to themselves, and no chain may loop back (A→B→A)."""
    if promoter.user_id == customer.pk:
        raise SelfReferral(_("不能通过自己的推广码绑定自己"))
    seen: set[int] = {promoter.pk}
    current: Promoter | None = promoter
    while current is not None:
        above = selectors.upline(current)
        if above is None or above.pk in seen:
            return
        if above.user_id == customer.pk:
            raise ReferralCycle(_("推广关系不能形成循环"))
        seen.add(above.pk)
        current = above
    return


@transaction.atomic
def do_bind(promoter: Promoter, customer: Any) -> Binding:
    """Bind ``customer`` to ``promoter`` per the shop's attribution (first or last touch)."""
    check_bind(promoter, customer)
    shop_settings = selectors.shop_settings(promoter.shop)
    now = timezone.now()
    expires = now + timedelta(days=shop_settings.binding_days)
    existing = Binding.objects.select_for_update().filter(shop=promoter.shop, customer=customer).first()
    if existing is None:
        try:
            with transaction.atomic():
                return Binding.objects.create(
                    shop=promoter.shop, customer=customer, promoter=promoter, bound_at=now, expires_at=expires
                )
        except IntegrityError:
            existing = Binding.objects.select_for_update().get(shop=promoter.shop, customer=customer)
    if existing.expires_at > now and shop_settings.attribution == Attribution.FIRST_TOUCH:
        return existing
    existing.promoter, existing.bound_at, existing.expires_at = promoter, now, expires
    existing.save(update_fields=["promoter", "bound_at", "expires_at"])
    return existing


def record_visit(code: str, visitor: Any, *, device: str, target: str = "") -> tuple[Visit, Binding | None]:
    """A visit through ``code``; a signed-in visitor is bound too (self-referral and cycles refused)."""
    promoter = selectors.promoter_by_code(code)
    visit = Visit.objects.create(
        shop=promoter.shop,
        promoter=promoter,
        visitor=visitor if getattr(visitor, "is_authenticated", False) else None,
        device_hash=device,
        target=(target or "")[:TARGET_MAX],
    )
    binding = do_bind(promoter, visitor) if getattr(visitor, "is_authenticated", False) else None
    return visit, binding
