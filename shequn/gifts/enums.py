from django.db import models
from django.utils.translation import gettext_lazy


class GiftStatus(models.TextChoices):
    AWAITING_PAYMENT = "awaiting_payment", gettext_lazy("待付款")  # the buyer's order is not paid yet
    OPEN = "open", gettext_lazy("待领取")  # paid; the claim link works until claim_by
    CLAIMED = "claimed", gettext_lazy("已领取")  # the recipient holds it now
    REFUNDED = "refunded", gettext_lazy("已退款")  # nobody claimed it in time; the buyer got the money back
