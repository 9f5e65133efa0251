"""Tables of coupons: what a shop offers (``CouponTemplate``), what a member holds
(``MemberCoupon``, applied to an order through ``orders.Order.coupon``) and its history."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .enums import CouponKind, CouponScope, CouponSource, CouponStatus, Validity


class CouponTemplate(models.Model):
    """A coupon as the shop defines it. Once a member holds one, the rules that decide what it is
    worth (kind, amounts, scope, audience, validity, per-person limit, combining) are frozen."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="coupon_templates")
    name = models.CharField(_("名称"), max_length=40)
    kind = models.CharField(_("类型"), max_length=12, choices=CouponKind.choices)
    threshold_fen = models.PositiveIntegerField(default=0)  # goods in scope must reach it; 0 = none
    amount_fen = models.PositiveIntegerField(default=0)  # 满减 and 无门槛: the amount off
    percent_off = models.PositiveSmallIntegerField(default=0)  # 折扣: 1–99 (20 = 8折)
    cap_fen = models.PositiveIntegerField(null=True, blank=True)  # 折扣: the most it takes off; None = no cap
    free_sku = models.ForeignKey("catalog.Sku", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    scope = models.CharField(_("适用商品"), max_length=12, choices=CouponScope.choices, default=CouponScope.SHOP)
    # The categories' or the products' ids (by ``scope``), the shop's own when saved. Ids in the row,
    # not a join table: checkout reads them with the coupon, in no statement of their own.
    scope_ids = models.JSONField(default=list, blank=True)
    # Only current members of this community may claim and use it; None = anyone.
    community = models.ForeignKey(
        "communities.Community", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    validity = models.CharField(_("有效期"), max_length=6, choices=Validity.choices, default=Validity.FIXED)
    valid_from = models.DateTimeField(null=True, blank=True)  # fixed
    valid_until = models.DateTimeField(null=True, blank=True)  # fixed
    valid_days = models.PositiveSmallIntegerField(null=True, blank=True)  # days from claiming
    total_quantity = models.PositiveIntegerField()
    remaining = models.PositiveIntegerField()  # not claimed, issued nor reserved; only conditional F() updates move it
    # Set aside for lottery prizes published and not yet given (``actions.reserve``): held + remaining
    # + reserved == total, and a winner's coupon comes from here, whatever others claim meanwhile.
    reserved = models.PositiveIntegerField(default=0)
    per_person_limit = models.PositiveSmallIntegerField(default=1)
    # Lines priced at the member price count towards the coupon only when this is set.
    with_member_prices = models.BooleanField(default=False)
    # Members may claim it themselves (claim centre, post cards); otherwise staff, welcome or lottery only.
    claimable = models.BooleanField(default=True)
    # Issued to each new member of this community on joining (one welcome per member, ever).
    welcome_community = models.ForeignKey(
        "communities.Community", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_active = models.BooleanField(default=True)  # off: no more claimed or issued; held coupons stay usable
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(remaining__lte=F("total_quantity") - F("reserved")), name="coupon_remaining_in_total"
            ),
            models.CheckConstraint(condition=Q(per_person_limit__gte=1), name="coupon_limit_positive"),
            models.CheckConstraint(condition=Q(percent_off__lte=99), name="coupon_percent_below_100"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def issued(self) -> int:
        """Coupons in members' hands (claimed or issued, used or not)."""
        return self.total_quantity - self.remaining - self.reserved

    @property
    def own_amounts(self) -> bool:
        """A red packet's template (``actions.create_amounts_template``): 无门槛 with no amount of its
        own, each coupon carrying the part its member grabbed."""
        return self.kind == CouponKind.NO_THRESHOLD and self.amount_fen == 0


class MemberCoupon(models.Model):
    """One coupon in one member's hands. Its order is the order whose ``coupon`` it is."""

    template = models.ForeignKey(CouponTemplate, on_delete=models.PROTECT, related_name="coupons")
    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="coupons")
    status = models.CharField(max_length=10, choices=CouponStatus.choices, default=CouponStatus.CLAIMED)
    source = models.CharField(max_length=10, choices=CouponSource.choices)
    post = models.ForeignKey("communities.Post", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField()
    claimed_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    # Its own amount off (a red packet's grabbed part issued as a 无门槛 coupon); None: the template's.
    amount_fen = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["valid_until", "id"]
        indexes = [
            models.Index(fields=["user", "shop", "status", "valid_until"], name="coupon_member_usable"),
            models.Index(fields=["template", "user"], name="coupon_template_member"),
            models.Index(fields=["status", "valid_until"], name="coupon_status_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.template_id}:{self.user_id}"


class CouponEvent(models.Model):
    """Append-only history of member coupons: one row per status reached, the first one its issue
    (written by ``state``)."""

    coupon = models.ForeignKey(MemberCoupon, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=10, choices=CouponStatus.choices)  # the status reached
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]


class PostCoupon(models.Model):
    """A coupon card under a community post: members claim from it (source ``post``)."""

    post = models.ForeignKey("communities.Post", on_delete=models.CASCADE, related_name="+")
    template = models.ForeignKey(CouponTemplate, on_delete=models.CASCADE, related_name="post_cards")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["post", "template"], name="unique_coupon_per_post")]
