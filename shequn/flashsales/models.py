"""Flash sales (秒杀) with reservations (预约), on the admission gate (``shequn.gate``).

A sale has sessions (time slots); a session offers SKUs at a flash price, each a pool at the
gate named ``flash:{item.pk}``. The gate decides attempts in memory; each admitted attempt is a
``FlashClaim`` here once the consumer has read it, and then one ordinary order (``orders.Order``)
at the flash price. The database stays the truth: ``actions.reconcile`` proves that for every
item units at the gate + claims not yet ordered + unpaid orders + paid orders = quantity.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from .enums import ClaimStatus, SaleEventKind, SaleStatus


class FlashSale(models.Model):
    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="flash_sales")
    title = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=SaleStatus.choices, default=SaleStatus.DRAFT)
    reservation_starts_at = models.DateTimeField()  # members may reserve from here until a session starts
    payment_timeout_minutes = models.PositiveSmallIntegerField(default=10)
    # Only current members of this community may reserve and buy (None = everyone).
    community = models.ForeignKey(
        "communities.Community", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # For the first N minutes of each session only members who reserved may buy (0 = everyone at once).
    priority_minutes = models.PositiveSmallIntegerField(default=0)
    # How many members reserved: one conditional F() update per new reservation (see actions.reserve).
    reservation_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class FlashSession(models.Model):
    sale = models.ForeignKey(FlashSale, on_delete=models.CASCADE, related_name="sessions")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    # Reservations with an id up to here have had their reminder for this session (resumable, idempotent).
    reminded_up_to = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="flash_session_ends_after_start")
        ]

    def __str__(self) -> str:
        return f"{self.sale_id}@{self.starts_at:%Y-%m-%d %H:%M}"


class FlashItem(models.Model):
    session = models.ForeignKey(FlashSession, on_delete=models.CASCADE, related_name="items")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    flash_price_fen = models.PositiveIntegerField()
    quantity = models.PositiveIntegerField()  # units this session sells at the flash price
    per_person_cap = models.PositiveIntegerField(default=1)
    position = models.PositiveIntegerField(default=0)
    # Attempts seen by this process's buy path are counted in the cache (no SQL on the hot
    # path); the console reads them from there.

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "sku"], name="one_flash_item_per_sku_per_session"),
            models.CheckConstraint(condition=Q(flash_price_fen__gt=0), name="flash_price_positive"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="flash_quantity_positive"),
            models.CheckConstraint(condition=Q(per_person_cap__gte=1), name="flash_cap_positive"),
        ]

    @property
    def pool_key(self) -> str:
        return pool_key(self.pk)


POOL_OWNER = "flash"  # the gate's name for this app's pools and claims stream (gate.base.owner_of)


def pool_key(item_id: int) -> str:
    return f"{POOL_OWNER}:{item_id}"


class Reservation(models.Model):
    sale = models.ForeignKey(FlashSale, on_delete=models.CASCADE, related_name="reservations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["sale", "user"], name="one_reservation_per_member")]


class FlashClaim(models.Model):
    """An attempt the gate admitted, as the consumer wrote it down (``claim_id`` is the gate's id and
    the consumer's idempotency key: a claim delivered twice is one row and one order)."""

    claim_id = models.CharField(max_length=64, unique=True)
    item = models.ForeignKey(FlashItem, on_delete=models.PROTECT, related_name="claims")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=ClaimStatus.choices, default=ClaimStatus.ADMITTED)
    order = models.OneToOneField(
        "orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="flash_claim"
    )
    reason = models.CharField(max_length=200, blank=True)  # why it was released, shown to the member
    # A late payment reinstated the released order and the gate gave the unit again under this
    # new claim id: the consumer reading that claim knows it is this one, not a new order.
    regained_claim_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    admitted_at = models.DateTimeField()
    # For a released claim: its units are back at the gate (released there, counted by a rebuild,
    # or never taken from it). False while the release waits for the gate that holds the pool:
    # the embedded gate lives in the web process, and the task consumer that closes an unpaid
    # order cannot reach it (actions.return_released_units hands it over).
    returned_to_gate = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["item", "status"], name="flash_claim_item_status"),
            models.Index(
                fields=["item"],
                condition=Q(status="released", returned_to_gate=False),
                name="flash_claim_returning",
            ),
        ]


class FlashEvent(models.Model):
    """History of sales and claims: every status move, written by ``state.transition``."""

    kind = models.CharField(max_length=8, choices=SaleEventKind.choices)
    sale = models.ForeignKey(FlashSale, on_delete=models.CASCADE, related_name="events")
    claim = models.ForeignKey(FlashClaim, null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
