"""Tables of prepaid packages (套餐卡, S10): what a shop sells (N portions of an item for a price),
the packages members hold, and the append-only ledger of their portions and value."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from .enums import Channel, EntryKind, PackageStatus, RefundRule


class PackagePlan(models.Model):
    """A package for sale: ``portions`` of ``item`` (a goods SKU) for ``price_fen``."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="+")
    # The catalog product (kind "package") members buy through the ordinary checkout; one SKU.
    product = models.OneToOneField("catalog.Product", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=60)
    description = models.TextField(blank=True)  # plain text; templates escape it
    item = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")  # a goods SKU
    portions = models.PositiveIntegerField()
    price_fen = models.PositiveIntegerField()
    # Delivery redemptions ship free; without it a package is redeemed by pickup only.
    shipping_included = models.BooleanField(default=True)
    validity_days = models.PositiveSmallIntegerField()  # from the day it is bought
    refund_rule = models.CharField(max_length=10, choices=RefundRule.choices, default=RefundRule.PRO_RATA)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(portions__gt=0), name="plan_portions_positive"),
            models.CheckConstraint(condition=Q(price_fen__gt=0), name="plan_price_positive"),
            models.CheckConstraint(condition=Q(validity_days__gt=0), name="plan_validity_positive"),
        ]

    def __str__(self) -> str:
        return self.title


class MemberPackage(models.Model):
    """One package a member holds, bought by one order line. ``portions_left`` and ``value_left_fen``
    always equal the sums of its ledger entries (``selectors.books_balance`` proves it)."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey(PackagePlan, on_delete=models.PROTECT, related_name="packages")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    order_line = models.OneToOneField("orders.OrderLine", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=PackageStatus.choices, default=PackageStatus.ACTIVE)
    portions_total = models.PositiveIntegerField()  # snapshot of the plan when bought
    portions_left = models.PositiveIntegerField()
    paid_fen = models.PositiveIntegerField()  # what the line paid (after any coupon)
    value_left_fen = models.PositiveIntegerField()  # the unused portions' share of paid_fen
    shipping_included = models.BooleanField()  # snapshot
    refund_rule = models.CharField(max_length=10, choices=RefundRule.choices)  # snapshot
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "shop", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(portions_left__lte=F("portions_total")), name="package_left_within_total"
            ),
            models.CheckConstraint(condition=Q(value_left_fen__lte=F("paid_fen")), name="package_value_within_paid"),
        ]

    def __str__(self) -> str:
        return f"{self.plan.title} #{self.pk}"


class PackageEntry(models.Model):
    """Append-only ledger of a package: portions and value in (bought) and out (redeemed, refunded)."""

    package = models.ForeignKey(MemberPackage, on_delete=models.PROTECT, related_name="entries")
    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=EntryKind.choices)
    portions = models.IntegerField()  # signed
    value_fen = models.IntegerField()  # signed
    # The redemption's zero-payment order, or the purchase order for a bought or refunded entry.
    order = models.ForeignKey("orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    refund = models.ForeignKey(
        "orders.RefundRequest", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices, blank=True)  # redemptions only
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["shop", "kind"])]
