from django.db import models
from django.utils.translation import gettext_lazy


class TicketStatus(models.TextChoices):
    OPEN = "open", gettext_lazy("待取货")  # goods at the pickup point; the code may be verified once
    PICKED_UP = "picked_up", gettext_lazy("已核销")  # the leader verified it; the order is picked up


class SettlementStatus(models.TextChoices):
    DRAFT = "draft", gettext_lazy("待确认")  # created by the operator for a period; finance still to check
    CONFIRMED = "confirmed", gettext_lazy("已确认")  # finance confirmed the amount; the payout is due
    PAID = "paid", gettext_lazy("已打款")  # the payout was recorded (amount, reference, who, when)
