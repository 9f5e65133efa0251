from django.conf import settings
from django.db import models


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
