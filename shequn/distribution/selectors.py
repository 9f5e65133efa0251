"""Reads for referral distribution. Console reads are scoped to the caller's shop: foreign ids 404."""

from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.shops.models import Shop

from .enums import CommissionStatus, PromoterStatus, RuleScope
from .errors import InvalidCode, LevelNotFound, PromoterNotFound, RuleNotFound
from .models import Binding, Commission, CommissionRule, DistributionSettings, Promoter, PromoterLevel


def shop_settings(shop: Shop) -> DistributionSettings:
    """The shop's settings; the defaults (unsaved) when the operator never changed them."""
    return DistributionSettings.objects.filter(shop=shop).first() or DistributionSettings(shop=shop)


def access_promoter(shop: Shop, promoter_id: int) -> Promoter:
    found = Promoter.objects.filter(shop=shop, pk=promoter_id).select_related("user").first()
    if found is None:
        raise PromoterNotFound(_("推广员不存在"))
    return found


def access_rule(shop: Shop, rule_id: int) -> CommissionRule:
    found = CommissionRule.objects.filter(shop=shop, pk=rule_id).first()
    if found is None:
        raise RuleNotFound(_("佣金规则不存在"))
    return found


def access_level(shop: Shop, level_id: int) -> PromoterLevel:
    found = PromoterLevel.objects.filter(shop=shop, pk=level_id).first()
    if found is None:
        raise LevelNotFound(_("等级不存在"))
    return found


def shop_promoters(shop: Shop, status: str | None = None) -> QuerySet[Promoter]:
    found = Promoter.objects.filter(shop=shop).select_related("user")
    return found.filter(status=status) if status else found


def shop_rules(shop: Shop) -> QuerySet[CommissionRule]:
    return CommissionRule.objects.filter(shop=shop).select_related("category", "product")


def shop_levels(shop: Shop) -> QuerySet[PromoterLevel]:
    return PromoterLevel.objects.filter(shop=shop)


def my_promoter(user: Any, shop: Shop) -> Promoter | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Promoter.objects.filter(shop=shop, user=user).first()


def promoter_by_code(code: str) -> Promoter:
    """An approved promoter of an enabled shop; anything else looks like an unknown code."""
    found = (
        Promoter.objects.filter(code=(code or "").strip().upper(), status=PromoterStatus.APPROVED)
        .select_related("shop", "user")
        .first()
    )
    if found is None or not shop_settings(found.shop).enabled:
        raise InvalidCode(_("推广码无效"))
    return found


def active_binding(shop: Shop, customer: Any) -> Binding | None:
    """The customer's unexpired binding in ``shop``."""
    if not getattr(customer, "pk", None):
        return None
    return (
        Binding.objects.filter(shop=shop, customer=customer, expires_at__gt=timezone.now())
        .select_related("promoter", "promoter__user")
        .first()
    )


def upline(promoter: Promoter) -> Promoter | None:
    """The promoter that ``promoter``'s own user is bound to (their tier-2 upline), if any."""
    binding = active_binding(promoter.shop, promoter.user)
    if binding is None or binding.promoter.status != PromoterStatus.APPROVED:
        return None
    return binding.promoter


def rule_for(shop: Shop, product: Any) -> CommissionRule | None:
    """The most specific rule for ``product``: its own, then its category's, then the shop's."""
    target = Q(scope=RuleScope.SHOP) | Q(product_id=product.pk)
    if product.category_id:
        target |= Q(category_id=product.category_id)
    rules = {r.scope: r for r in CommissionRule.objects.filter(target, shop=shop)}
    return rules.get(RuleScope.PRODUCT) or rules.get(RuleScope.CATEGORY) or rules.get(RuleScope.SHOP)


def own_completed_sales_fen(promoter: Promoter) -> int:
    """What the promoter's own (tier-1) customers paid, net of refunds, on settled commission."""
    total = Commission.objects.filter(promoter=promoter, tier=1, status=CommissionStatus.SETTLED).aggregate(
        s=Sum("base_fen")
    )["s"]
    return int(total or 0)


def promoter_level(promoter: Promoter) -> PromoterLevel | None:
    sales = own_completed_sales_fen(promoter)
    return PromoterLevel.objects.filter(shop_id=promoter.shop_id, min_sales_fen__lte=sales).last()
