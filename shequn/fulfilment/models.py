"""Fulfilment of group-buy campaigns at the leaders' pickup points, and leaders' settlement.

- ``GoodsReceipt``: what a leader confirmed receiving, per campaign × leader × SKU. Written
  once per campaign × leader (the whole receipt in one transaction); shortages are refunded
  to the latest sign-ups first (see ``actions.allocate_shortage``) and recorded as
  ``ShortageRefund`` rows.
- ``PickupTicket``: one per confirmed sign-up whose goods arrived, with a 6-digit code (unique
  among open tickets of the pickup point) and an unguessable QR token; verified exactly once.
- ``Settlement`` / ``SettlementLine`` / ``Payout``: leader commission per period.

Hand-off to the distribution issue's wallet: a ``Settlement`` is the unit of money owed to a
leader. Once finance confirms it (status ``confirmed``) its ``commission_fen`` is final and
never changes; the wallet credits exactly one entry per confirmed settlement (key: the
settlement id) and the ``Payout`` row records the money movement (today written by finance
by hand; later by the wallet). Each campaign order appears in at most one settlement line
(unique ``order``), so an order is never paid commission twice.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from .enums import SettlementStatus, TicketStatus


class GoodsReceipt(models.Model):
    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey("groupbuy.Campaign", on_delete=models.PROTECT, related_name="+")
    leader = models.ForeignKey("leaders.Leader", on_delete=models.PROTECT, related_name="+")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    expected = models.PositiveIntegerField()  # units of paid sign-ups at the time of receipt
    received = models.PositiveIntegerField()
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["campaign_id", "leader_id", "sku_id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "leader", "sku"], name="one_receipt_per_campaign_leader_sku"),
            models.CheckConstraint(condition=Q(received__lte=models.F("expected")), name="receipt_not_above_expected"),
        ]

    @property
    def shortage(self) -> int:
        return self.expected - self.received


class ShortageRefund(models.Model):
    """Units a sign-up did not get because the goods arrived short, and the refund for them."""

    receipt = models.ForeignKey(GoodsReceipt, on_delete=models.CASCADE, related_name="refunds")
    sign_up = models.ForeignKey("groupbuy.SignUp", on_delete=models.PROTECT, related_name="+")
    units = models.PositiveIntegerField()
    amount_fen = models.PositiveIntegerField()
    refund = models.ForeignKey("orders.RefundRequest", null=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["receipt", "sign_up"], name="one_shortage_per_receipt_sign_up")]


class PickupTicket(models.Model):
    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    sign_up = models.OneToOneField("groupbuy.SignUp", on_delete=models.PROTECT, related_name="pickup_ticket")
    order = models.OneToOneField("orders.Order", on_delete=models.PROTECT, related_name="pickup_ticket")
    pickup_point = models.ForeignKey("shops.PickupPoint", on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=6)  # typed by the leader; unique among open tickets of the point
    token = models.CharField(max_length=64, unique=True)  # in the QR's verify URL; unguessable
    status = models.CharField(max_length=12, choices=TicketStatus.choices, default=TicketStatus.OPEN)
    ready_at = models.DateTimeField()
    picked_up_at = models.DateTimeField(null=True, blank=True)
    picked_up_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Uncollected goods: the member is reminded and the operator alerted once, N days after ready.
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-ready_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["pickup_point", "code"], condition=Q(status="open"), name="unique_open_code_per_point"
            )
        ]
        indexes = [models.Index(fields=["status", "ready_at"], name="ticket_status_ready")]


class Settlement(models.Model):
    """One leader's commission statement for a period (see the module docstring for the hand-off)."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    leader = models.ForeignKey("leaders.Leader", on_delete=models.PROTECT, related_name="settlements")
    period_start = models.DateField()
    period_end = models.DateField()  # inclusive: orders completed on these local dates
    status = models.CharField(max_length=12, choices=SettlementStatus.choices, default=SettlementStatus.DRAFT)
    base_fen = models.PositiveIntegerField(default=0)  # what members paid net of refunds
    commission_fen = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-period_end", "-id"]


class SettlementLine(models.Model):
    settlement = models.ForeignKey(Settlement, on_delete=models.CASCADE, related_name="lines")
    order = models.OneToOneField("orders.Order", on_delete=models.PROTECT, related_name="settlement_line")
    sign_up = models.ForeignKey("groupbuy.SignUp", on_delete=models.PROTECT, related_name="+")
    paid_fen = models.PositiveIntegerField()
    refunded_fen = models.PositiveIntegerField()
    base_fen = models.PositiveIntegerField()
    rate_bp = models.PositiveIntegerField()
    commission_fen = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]


class Payout(models.Model):
    """Money paid to the leader for one confirmed settlement (recorded by finance; audited)."""

    settlement = models.OneToOneField(Settlement, on_delete=models.PROTECT, related_name="payout")
    amount_fen = models.PositiveIntegerField()
    reference = models.CharField(max_length=64)  # bank / WeChat transfer reference
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
