from datetime import date, datetime, time

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .enums import ShopCategory, ShopStatus, StaffRole


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
    # Delivery orders must choose one of the shop's delivery slots (pickup orders may); see ADR 0007.
    delivery_slots_required = models.BooleanField(default=False)
    service_phone = models.CharField(max_length=20, blank=True)
    category = models.CharField(max_length=16, choices=ShopCategory.choices, default=ShopCategory.OTHER)
    # Moved only by ``shops.state.transition`` (the platform's suspend / reinstate / close).
    status = models.CharField(max_length=12, choices=ShopStatus.choices, default=ShopStatus.ACTIVE)
    status_reason = models.CharField(max_length=200, blank=True)  # why the platform suspended or closed it
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        """Members may shop and order here (not suspended or closed by the platform)."""
        return self.status == ShopStatus.ACTIVE


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


WEEKDAYS = (
    gettext_lazy("周一"),
    gettext_lazy("周二"),
    gettext_lazy("周三"),
    gettext_lazy("周四"),
    gettext_lazy("周五"),
    gettext_lazy("周六"),
    gettext_lazy("周日"),
)


class DeliverySlot(models.Model):
    """A dated window in which the shop hands orders over (delivered, or ready at the pickup
    point), for at most ``capacity`` orders, bookable until ``cutoff_at`` (docs/adr/0007).

    ``booked`` moves only through single-statement conditional ``F()`` updates (orders.actions):
    +1 when an order takes a place, -1 when it is closed or cancelled.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="delivery_slots")
    date = models.DateField()
    starts_at = models.TimeField()
    ends_at = models.TimeField()
    capacity = models.PositiveIntegerField()  # orders, not units
    booked = models.PositiveIntegerField(default=0)  # places held by live orders
    cutoff_at = models.DateTimeField()  # no new orders from this moment (e.g. the day before, 20:00)
    is_open = models.BooleanField(default=True)  # staff closed it: no new orders; booked ones keep it
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["date", "starts_at", "id"]
        indexes = [models.Index(fields=["shop", "date"])]
        constraints = [
            models.UniqueConstraint(fields=["shop", "date", "starts_at", "ends_at"], name="unique_delivery_slot"),
            models.CheckConstraint(condition=Q(booked__lte=F("capacity")), name="delivery_slot_not_overbooked"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="delivery_slot_ends_after_start"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """「12月8日（周二）09:00–12:00」: what the member, the console and the order snapshot show."""
        return slot_label(self.date, self.starts_at, self.ends_at)

    @property
    def places_left(self) -> int:
        return max(0, self.capacity - self.booked)

    def is_closed_at(self, now: datetime) -> bool:
        return not self.is_open or now >= self.cutoff_at


def slot_label(day: date, starts_at: time, ends_at: time) -> str:
    return _("%(date)s（%(weekday)s）%(starts)s–%(ends)s") % {
        "date": date_format(day, _("n月j日")),
        "weekday": WEEKDAYS[day.weekday()],
        "starts": f"{starts_at:%H:%M}",
        "ends": f"{ends_at:%H:%M}",
    }
