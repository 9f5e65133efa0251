"""Group leaders (团长): members who run a pickup point for their estate's sub-group."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from shequn.core.phone import mask_name, mask_phone

from .enums import LeaderStatus


class Leader(models.Model):
    """One member leading for one shop; created as an application, approved by the operator.

    On approval the leader gets a pickup point of the shop (``shops.PickupPoint``), which
    campaign orders use as their pickup point: the orders app's pickup flow is reused as is.
    """

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="leaders")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="leader_roles")
    community = models.ForeignKey("communities.Community", on_delete=models.PROTECT, related_name="leaders")
    # The estate / neighbourhood group the leader serves (a sub-group of the community).
    sub_group = models.ForeignKey(
        "communities.SubGroup", null=True, blank=True, on_delete=models.SET_NULL, related_name="leaders"
    )
    status = models.CharField(max_length=12, choices=LeaderStatus.choices, default=LeaderStatus.APPLIED)
    # The pickup point, from approval on (name, address, opening hours, contact live there).
    pickup_point = models.OneToOneField(
        "shops.PickupPoint", null=True, blank=True, on_delete=models.PROTECT, related_name="leader"
    )
    # What the application proposed, copied to the pickup point on approval.
    point_name = models.CharField(max_length=100)
    point_address = models.CharField(max_length=255)
    opening_hours = models.CharField(max_length=100, blank=True)
    contact_phone = models.CharField(max_length=20)  # shown masked to members
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    capacity_per_day = models.PositiveIntegerField(null=True, blank=True)  # orders a day; None = no limit
    # Commission on completed, non-refunded campaign sales, in basis points (1000 = 10%).
    commission_rate_bp = models.PositiveIntegerField(default=0)
    application_note = models.CharField(max_length=200, blank=True)
    # Why the operator rejected or suspended (shown to the member); cleared on approval/resume.
    decision_note = models.CharField(max_length=200, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "user"], name="one_leader_role_per_shop"),
            models.CheckConstraint(condition=Q(commission_rate_bp__lte=5000), name="leader_commission_at_most_half"),
        ]

    def __str__(self) -> str:
        return f"{self.point_name} ({self.user})"

    @property
    def commission_percent(self) -> str:
        """1000 basis points → "10", 850 → "8.5"."""
        return f"{self.commission_rate_bp / 100:g}"

    @property
    def masked_contact_phone(self) -> str:
        """What members see (138****1234)."""
        return mask_phone(self.contact_phone)

    @property
    def masked_leader_name(self) -> str:
        return mask_name(self.user.display_name)
