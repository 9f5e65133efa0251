"""Cross-cutting tables: audit log, operational alerts, idempotency keys."""

from django.conf import settings
from django.db import models


class AuditLog(models.Model):
    """Append-only record of every staff write: who, in which shop, did what to which object."""

    shop = models.ForeignKey("shops.Shop", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=64)  # dotted verb, e.g. "order.ship"
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)  # stored in UTC (USE_TZ)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["shop", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.object_type}#{self.object_id}"


class Alert(models.Model):
    """Something an operator or the platform must look at (late payment, amount mismatch...)."""

    shop = models.ForeignKey("shops.Shop", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=64)
    message = models.CharField(max_length=500)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"[{self.kind}] {self.message}"


class IdempotencyKey(models.Model):
    """One row per (user, scope, key): the first request's fingerprint and its response."""

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress"  # first request still running: a retry gets 409
        DONE = "done"  # finished: a retry with the same body gets the stored response

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=64)  # e.g. "orders.create"
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # sha256 of the canonical request body
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "scope", "key"], name="unique_idempotency_key")]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"


class RateLimitCounter(models.Model):
    """One rate-limit counter or lock (``core.ratelimit``) when there is no Redis.

    Every web worker reads and writes the same row; counts change only by single-statement
    ``F()`` updates, so two workers never lose a hit. A row whose ``expires_at`` has passed
    counts as absent and is reused by the next hit of its key.
    """

    key = models.CharField(max_length=200, unique=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key}={self.count} until {self.expires_at:%Y-%m-%d %H:%M:%S}"
