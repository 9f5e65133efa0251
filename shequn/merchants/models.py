from django.conf import settings
from django.db import models
from django.db.models import Q

from shequn.shops.enums import ShopCategory

from .enums import ApplicationStatus, BusinessSubject


class MerchantApplication(models.Model):
    """A person's request to open a shop; a platform admin approves (the shop is created, the
    applicant its owner) or rejects it with a reason (docs/adr/0014)."""

    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="merchant_applications"
    )
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=32)
    category = models.CharField(max_length=16, choices=ShopCategory.choices)
    logo = models.ImageField(upload_to="shops/", blank=True)  # resized JPEG (catalog's thumbnail rule)
    business_subject = models.CharField(max_length=16, choices=BusinessSubject.choices)
    licence_number = models.CharField(max_length=18, blank=True)  # 统一社会信用代码; blank for 个人
    status = models.CharField(max_length=10, choices=ApplicationStatus.choices, default=ApplicationStatus.PENDING)
    reason = models.CharField(max_length=200, blank=True)  # why it was rejected
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    shop = models.OneToOneField(
        "shops.Shop", null=True, blank=True, on_delete=models.PROTECT, related_name="application"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"])]
        constraints = [
            # One application waits per person, and a slug is held by one waiting application.
            models.UniqueConstraint(
                fields=["applicant"], condition=Q(status="pending"), name="one_pending_application_per_person"
            ),
            models.UniqueConstraint(
                fields=["slug"], condition=Q(status="pending"), name="one_pending_application_per_slug"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.slug}）"
