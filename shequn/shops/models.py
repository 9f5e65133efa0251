from django.conf import settings
from django.db import models

from .enums import StaffRole


class Shop(models.Model):
    """The tenant: a merchant with its own catalog, communities, staff and orders."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=64, unique=True)
    description = models.TextField(blank=True)
    logo = models.ImageField(upload_to="shops/", blank=True)
    # Unpaid orders close after this many minutes.
    unpaid_timeout_minutes = models.PositiveIntegerField(default=30)
    # Shipping-fee rule for delivery: a flat fee, free at or above the threshold (0 = never free).
    shipping_fee_fen = models.PositiveIntegerField(default=1000)
    free_shipping_threshold_fen = models.PositiveIntegerField(default=9900)
    cod_enabled = models.BooleanField(default=True)  # cash on delivery offered at checkout
    service_phone = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class StaffMember(models.Model):
    """A user working for a shop in one role."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="staff")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_roles")
    role = models.CharField(max_length=16, choices=StaffRole.choices)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "user"], name="unique_staff_per_shop")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.shop} ({self.role})"


class PickupPoint(models.Model):
    """A place where members collect self-pickup orders."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="pickup_points")
    name = models.CharField(max_length=100)
    address = models.CharField(max_length=255)
    opening_hours = models.CharField(max_length=100, blank=True)
    contact_phone = models.CharField(max_length=20, blank=True)
    is_active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.name
