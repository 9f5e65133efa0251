"""Referral distribution: promoters, their visitors and bound customers, commission rules.

Anti-pyramid by construction (docs RULES.md): joining never costs money nor needs a purchase
(there is no field for a fee), commission is earned on real sales only (no field for a sign-up
or team bonus), and there are at most two tiers (``tier2_*`` is the last one).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from .enums import Attribution, CommissionStatus, PromoterStatus, RuleKind, RuleScope

DEFAULT_BINDING_DAYS = 30


class DistributionSettings(models.Model):
    shop = models.OneToOneField("shops.Shop", on_delete=models.CASCADE, related_name="distribution_settings")
    enabled = models.BooleanField(default=True)
    auto_approve = models.BooleanField(default=False)
    tier2_enabled = models.BooleanField(default=False)
    attribution = models.CharField(max_length=16, choices=Attribution.choices, default=Attribution.FIRST_TOUCH)
    binding_days = models.PositiveSmallIntegerField(default=DEFAULT_BINDING_DAYS)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"distribution settings of {self.shop_id}"


class PromoterLevel(models.Model):
    """Earned by the promoter's own completed referred sales only; adds to tier-1 percentage rates."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=20)
    min_sales_fen = models.PositiveIntegerField()
    extra_bp = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["min_sales_fen"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "min_sales_fen"], name="unique_level_threshold_per_shop"),
        ]

    def __str__(self) -> str:
        return self.name


class Promoter(models.Model):
    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    code = models.CharField(max_length=16, unique=True)
    status = models.CharField(max_length=16, choices=PromoterStatus.choices, default=PromoterStatus.PENDING)
    applied_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-applied_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["shop", "user"], name="unique_promoter_per_shop")]

    def __str__(self) -> str:
        return f"promoter {self.code}"


class CommissionRule(models.Model):
    """The product rule wins over its category's, which wins over the shop-wide one."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=16, choices=RuleScope.choices)
    category = models.ForeignKey("catalog.Category", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey("catalog.Product", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=RuleKind.choices)
    # Basis points of what the buyer paid for the line (percent) or fen per unit (fixed).
    tier1_value = models.PositiveIntegerField()
    tier2_value = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["scope", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop"], condition=Q(scope=RuleScope.SHOP), name="unique_shop_rule_per_shop"
            ),
            models.UniqueConstraint(fields=["shop", "category"], name="unique_category_rule"),
            models.UniqueConstraint(fields=["shop", "product"], name="unique_product_rule"),
            models.CheckConstraint(
                condition=(
                    Q(scope=RuleScope.SHOP, category__isnull=True, product__isnull=True)
                    | Q(scope=RuleScope.CATEGORY, category__isnull=False, product__isnull=True)
                    | Q(scope=RuleScope.PRODUCT, category__isnull=True, product__isnull=False)
                ),
                name="rule_target_matches_scope",
            ),
        ]

    def __str__(self) -> str:
        return f"rule {self.scope} {self.pk}"


class Binding(models.Model):
    """A customer bound to the promoter whose link brought them, until ``expires_at``."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    promoter = models.ForeignKey(Promoter, on_delete=models.CASCADE, related_name="bindings")
    bound_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "customer"], name="unique_binding_per_customer")]

    def __str__(self) -> str:
        return f"binding {self.customer_id} → {self.promoter_id}"


class Visit(models.Model):
    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    promoter = models.ForeignKey(Promoter, on_delete=models.CASCADE, related_name="visits")
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    device_hash = models.CharField(max_length=64, db_index=True)
    target = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"visit {self.pk}"


class Commission(models.Model):
    """One tier's commission on one order line; money moves through wallets.flows."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    promoter = models.ForeignKey(Promoter, on_delete=models.PROTECT, related_name="commissions")
    tier = models.PositiveSmallIntegerField()
    line = models.ForeignKey("orders.OrderLine", on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="+")
    base_fen = models.PositiveIntegerField()
    amount_fen = models.PositiveIntegerField()
    reversed_fen = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=16, choices=CommissionStatus.choices, default=CommissionStatus.FROZEN)
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["line", "tier"], name="unique_commission_per_line_tier"),
            models.CheckConstraint(condition=Q(tier__in=[1, 2]), name="commission_at_most_two_tiers"),
            models.CheckConstraint(condition=Q(reversed_fen__lte=models.F("amount_fen")), name="reversal_not_above"),
        ]
        # The settlement sweep reads frozen rows in id order: without this it would walk every
        # settled row, every ten minutes, for ever.
        indexes = [
            models.Index(fields=["id"], condition=Q(status=CommissionStatus.FROZEN), name="commission_frozen_idx"),
        ]

    def __str__(self) -> str:
        return f"commission {self.pk}"
