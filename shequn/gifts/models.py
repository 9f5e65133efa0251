"""Gifts (送礼): something a member bought for a friend, claimed through a secret link."""

from django.conf import settings
from django.db import models

from .enums import GiftStatus


class Gift(models.Model):
    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="+")
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12)  # the bought product's kind (catalog.kinds), e.g. "package"
    order = models.OneToOneField("orders.Order", on_delete=models.PROTECT, related_name="+")  # the buyer's
    # What was bought, in the owning app (a MemberPackage's id); set when the order is paid.
    subject_id = models.BigIntegerField(null=True, blank=True)
    token = models.CharField(max_length=64, unique=True)  # the claim link's secret
    message = models.CharField(max_length=60, blank=True)
    status = models.CharField(max_length=20, choices=GiftStatus.choices, default=GiftStatus.AWAITING_PAYMENT)
    # Never shown to the sender beyond a masked name: the recipient's address stays theirs.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    claim_by = models.DateTimeField(null=True, blank=True)  # set when paid; unclaimed after it: refunded
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["sender", "-created_at"]),
            models.Index(fields=["status", "claim_by"]),
        ]

    def __str__(self) -> str:
        return f"gift #{self.pk}"
