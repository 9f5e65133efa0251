"""Stored value (储值): the plans members top up by, and what each order took from a balance.

The money itself lives in the wallets ledger (``wallets.enums.AccountKind``): a member's
STORED_PRINCIPAL, STORED_BONUS and (red packets) SPENDABLE accounts; these tables only say
where it came from and where it went, so the ledger can be checked against them.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class TopUpPlan(models.Model):
    """充 ¥1,000 送 ¥100: a catalog product of kind ``stored_value`` priced at the principal,
    with the bonus the shop adds when it is paid."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="+")
    product = models.OneToOneField("catalog.Product", on_delete=models.PROTECT, related_name="top_up_plan")
    principal_fen = models.PositiveIntegerField()
    bonus_fen = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["principal_fen", "id"]
        constraints = [models.CheckConstraint(condition=Q(principal_fen__gt=0), name="top_up_principal_positive")]

    def __str__(self) -> str:
        return f"{self.principal_fen}+{self.bonus_fen}"


class BalanceCharge(models.Model):
    """What one order took from the member's balances when its payment started, by source, and what
    went back to each source since (refunds in proportion; all of it when the unpaid order closed).
    The order's gateway Payment carries the rest (``amount_fen`` = total − this charge)."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="+")
    order = models.OneToOneField("orders.Order", on_delete=models.PROTECT, related_name="balance_charge")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    principal_fen = models.PositiveIntegerField(default=0)
    bonus_fen = models.PositiveIntegerField(default=0)
    spendable_fen = models.PositiveIntegerField(default=0)  # red packets' non-withdrawable balance
    returned_principal_fen = models.PositiveIntegerField(default=0)
    returned_bonus_fen = models.PositiveIntegerField(default=0)
    returned_spendable_fen = models.PositiveIntegerField(default=0)
    released = models.BooleanField(default=False)  # the unpaid order closed: all of it went back
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(returned_principal_fen__lte=F("principal_fen"))
                & Q(returned_bonus_fen__lte=F("bonus_fen"))
                & Q(returned_spendable_fen__lte=F("spendable_fen")),
                name="balance_charge_returned_not_above_taken",
            )
        ]

    def __str__(self) -> str:
        return f"balance of order {self.order_id}"

    @property
    def amount_fen(self) -> int:
        return self.principal_fen + self.bonus_fen + self.spendable_fen

    @property
    def left(self) -> list[int]:
        """What is still taken from each source (principal, bonus, spendable)."""
        return [
            self.principal_fen - self.returned_principal_fen,
            self.bonus_fen - self.returned_bonus_fen,
            self.spendable_fen - self.returned_spendable_fen,
        ]
