from django.db import models
from django.utils.translation import gettext_lazy as _


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")  # being prepared; members do not see it
    OPEN = "open", _("接龙中")  # published: members sign up between starts_at and the deadline
    SUCCEEDED = "succeeded", _("已成团")  # closed at the deadline with the minimum reached
    FAILED = "failed", _("未成团")  # closed at the deadline below the minimum: every order refunded
    CANCELLED = "cancelled", _("已取消")  # called off by the operator before the deadline


class SignUpStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", _("待付款")  # order created, units held, not paid yet
    CONFIRMED = "confirmed", _("已接龙")  # paid: on the list with a sequence number
    CANCELLED = "cancelled", _("已取消")  # unpaid order closed or cancelled, or the member cancelled
    REFUNDED = "refunded", _("已退款")  # paid, then refunded (member cancelled, or the campaign failed)
