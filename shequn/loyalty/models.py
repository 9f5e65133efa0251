"""Member cards, levels and points (ADR 0020).

Points move only through the points ledger (``points.post``): one ``PointsTransaction`` per
movement whose ``PointsEntry`` rows sum to zero, each account's balance kept on its row by the
same statement. Growth value is fen of paid, unrefunded goods, counted when an order's after-sales
window closes (``Earning``)."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from .enums import EarningStatus, PointsAccountKind


class LoyaltyProgram(models.Model):
    """A shop's card and points rules, published on the card page. No row: the shop has no card."""

    shop = models.OneToOneField("shops.Shop", on_delete=models.CASCADE, related_name="loyalty_program")
    is_open = models.BooleanField(default=True)  # members may open a card
    # Earning: points per ¥1 actually paid for goods (a category may say otherwise).
    points_per_yuan = models.PositiveSmallIntegerField(default=1)
    # Redeeming at checkout: how many points take ¥1 off, and at most what share of the goods.
    points_per_yuan_off = models.PositiveIntegerField(default=100)
    redeem_cap_percent = models.PositiveSmallIntegerField(default=20)
    # Points settled in a calendar year expire at the end of the following year (积分次年年底清零).
    expire_yearly = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(points_per_yuan_off__gt=0), name="loyalty_points_per_yuan_off_positive"),
            models.CheckConstraint(condition=Q(redeem_cap_percent__lte=100), name="loyalty_redeem_cap_at_most_100"),
        ]

    def __str__(self) -> str:
        return f"loyalty:{self.shop_id}"


class CategoryPointsRate(models.Model):
    """Points per ¥1 paid for one category, instead of the program's rate (0: earns nothing)."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    category = models.OneToOneField("catalog.Category", on_delete=models.CASCADE, related_name="points_rate")
    points_per_yuan = models.PositiveSmallIntegerField()


class MemberLevel(models.Model):
    """A level reached at ``growth_fen`` of paid, unrefunded spend, and the benefits it gives."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="member_levels")
    name = models.CharField(max_length=20)
    growth_fen = models.PositiveBigIntegerField()  # reached at this growth value (the first level at 0)
    # Off every goods price for this level, in percent (95 = 9.5 折); 100: no discount.
    discount_percent = models.PositiveSmallIntegerField(default=100)
    free_shipping = models.BooleanField(default=False)
    # Given on the member's birthday, once a year (coupons.actions.issue).
    birthday_coupon = models.ForeignKey(
        "coupons.CouponTemplate", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["growth_fen", "id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "growth_fen"], name="one_level_per_growth"),
            models.UniqueConstraint(fields=["shop", "name"], name="unique_level_name"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=1, discount_percent__lte=100), name="level_discount_1_to_100"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class LevelPrice(models.Model):
    """The member price of one SKU for one level (the level's price list)."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    level = models.ForeignKey(MemberLevel, on_delete=models.CASCADE, related_name="prices")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.CASCADE, related_name="+")
    price_fen = models.PositiveIntegerField()

    class Meta:
        ordering = ["level", "sku"]
        constraints = [
            models.UniqueConstraint(fields=["level", "sku"], name="one_price_per_level_sku"),
            models.CheckConstraint(condition=Q(price_fen__gt=0), name="level_price_positive"),
        ]


class MemberCard(models.Model):
    """One member's card in one shop, opened free."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="member_cards")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="member_cards")
    number = models.CharField(max_length=20, unique=True)  # shown under the QR, read at the counter
    level = models.ForeignKey(MemberLevel, null=True, blank=True, on_delete=models.SET_NULL, related_name="cards")
    growth_fen = models.BigIntegerField(default=0)  # paid, unrefunded goods of settled orders
    birthday = models.DateField(null=True, blank=True)
    birthday_coupon_year = models.PositiveSmallIntegerField(null=True, blank=True)  # last year given
    opened_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "user"], name="one_card_per_member_shop"),
            models.CheckConstraint(condition=Q(growth_fen__gte=0), name="card_growth_not_negative"),
        ]

    def __str__(self) -> str:
        return self.number


class PointsAccount(models.Model):
    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="+")
    # The member for member kinds; None for the shop's own accounts.
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="points_accounts"
    )
    kind = models.CharField(max_length=12, choices=PointsAccountKind.choices)
    balance = models.BigIntegerField(default=0)  # points, signed

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "holder", "kind"], name="one_points_account_per_holder_kind"),
            models.UniqueConstraint(
                fields=["shop", "kind"], condition=Q(holder__isnull=True), name="one_shop_points_account_per_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.holder_id or 'shop'})"


class PointsTransaction(models.Model):
    """One movement of points; ``reference`` makes posting idempotent ("points:earn:order:42")."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(max_length=120, unique=True)
    memo = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.reference


class PointsEntry(models.Model):
    transaction = models.ForeignKey(PointsTransaction, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(PointsAccount, on_delete=models.PROTECT, related_name="entries")
    points = models.BigIntegerField()  # signed; never 0

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=~Q(points=0), name="points_entry_not_zero")]


class Earning(models.Model):
    """What one paid goods order earns: points per line at its category's rate, pending until the
    after-sales window closes. ``lines`` keeps each line's paid fen and rate so a refund reverses
    exactly the points of what it took back."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="+")
    card = models.ForeignKey(MemberCard, on_delete=models.PROTECT, related_name="earnings")
    # The order (orders sits above this app: kept by id and number, not a foreign key).
    order_id = models.PositiveBigIntegerField(unique=True)
    order_number = models.CharField(max_length=32)
    status = models.CharField(max_length=10, choices=EarningStatus.choices, default=EarningStatus.PENDING)
    lines = models.JSONField()  # {"<line id>": [paid_fen, points_per_yuan]}
    points = models.PositiveIntegerField()  # earned when paid, before any refund
    reversed_points = models.PositiveIntegerField(default=0)  # taken back by refunds
    refunded_fen = models.PositiveIntegerField(default=0)  # of the lines' paid fen, refunded
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["card", "status"])]


class PointsShopItem(models.Model):
    """The points shop (积分商城): a coupon of the shop a member takes for ``points``."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="points_shop_items")
    coupon_template = models.ForeignKey("coupons.CouponTemplate", on_delete=models.CASCADE, related_name="+")
    points = models.PositiveIntegerField()
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["points", "id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "coupon_template"], name="one_points_item_per_coupon"),
            models.CheckConstraint(condition=Q(points__gt=0), name="points_item_points_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.coupon_template_id}:{self.points}"
