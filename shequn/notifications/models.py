from django.conf import settings
from django.db import models

from .enums import SubscribeMessageStatus, SubscribeTemplate


class Notification(models.Model):
    """An entry in a member's in-app inbox."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    shop = models.ForeignKey("shops.Shop", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=48)  # e.g. "order.paid", "refund.refunded"
    title = models.CharField(max_length=100)
    body = models.CharField(max_length=500, blank=True)
    link = models.CharField(max_length=255, blank=True)  # a page path inside shequn
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return self.title


class SubscribeConsent(models.Model):
    """A member's consent to one subscribe message template, recorded when WeChat's subscribe
    dialog reports "accept"; withdrawn by the member (opt-out) or by WeChat refusing (43101)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    template = models.CharField(max_length=24, choices=SubscribeTemplate.choices)
    accepted_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.CharField(max_length=16, blank=True)  # "opt_out", "rejected", "refused_43101"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "template"], name="unique_subscribe_consent")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.template}"


class SubscribeMessage(models.Model):
    """One subscribe message for one event. ``event_key`` is unique: an event sends once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    template = models.CharField(max_length=24, choices=SubscribeTemplate.choices)
    event_key = models.CharField(max_length=100, unique=True)  # e.g. "order.paid:notification:42"
    title = models.CharField(max_length=100)
    body = models.CharField(max_length=500, blank=True)
    page = models.CharField(max_length=255, blank=True)  # where a tap on the message leads
    status = models.CharField(
        max_length=8, choices=SubscribeMessageStatus.choices, default=SubscribeMessageStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    errcode = models.IntegerField(null=True, blank=True)  # WeChat's last answer
    error = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "id"])]

    def __str__(self) -> str:
        return self.event_key
