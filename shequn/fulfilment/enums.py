from django.db import models


class TicketStatus(models.TextChoices):
    OPEN = "open", "待取货"  # goods at the pickup point; the code may be verified once
    PICKED_UP = "picked_up", "已核销"  # the leader verified it; the order is picked up


class SettlementStatus(models.TextChoices):
    DRAFT = "draft", "待确认"  # created by the operator for a period; finance still to check
    CONFIRMED = "confirmed", "已确认"  # finance confirmed the amount; the payout is due
    PAID = "paid", "已打款"  # the payout was recorded (amount, reference, who, when)
