"""A double-entry ledger in integer fen: every movement is one LedgerTransaction whose entries sum
to zero; an account's balance is the sum of its entries (kept on the row by the same statement
that writes them, and checked against the entries by tests)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext as _

from .enums import AccountKind, WithdrawalStatus


class Account(models.Model):
    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="ledger_accounts")
    # The holder (a promoter or a leader) for holder kinds; None for the shop's own accounts.
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_accounts"
    )
    kind = models.CharField(max_length=20, choices=AccountKind.choices)
    balance_fen = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "holder", "kind"], name="one_account_per_holder_kind"),
            models.UniqueConstraint(
                fields=["shop", "kind"], condition=Q(holder__isnull=True), name="one_shop_account_per_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.holder_id or 'shop'})"


class LedgerTransaction(models.Model):
    """One movement of money. ``reference`` makes posting idempotent: the same reference posts once
    (e.g. "commission:freeze:line:42", "withdrawal:paid:7")."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(max_length=120, unique=True)
    memo = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.reference


class Entry(models.Model):
    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    amount_fen = models.BigIntegerField()  # signed; never 0

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=~Q(amount_fen=0), name="entry_not_zero")]


class Withdrawal(models.Model):
    """A holder's request to take AVAILABLE money out (see enums.WithdrawalStatus for the states)."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="+")
    holder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="withdrawals")
    amount_fen = models.PositiveBigIntegerField()
    status = models.CharField(max_length=20, choices=WithdrawalStatus.choices, default=WithdrawalStatus.REQUESTED)
    created_at = models.DateTimeField(auto_now_add=True)
    first_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    first_approved_at = models.DateTimeField(null=True, blank=True)
    second_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    second_approved_at = models.DateTimeField(null=True, blank=True)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reject_reason = models.CharField(max_length=200, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)  # handed to the payout gateway
    finished_at = models.DateTimeField(null=True, blank=True)  # paid, failed or rejected
    failure_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["shop", "status"]), models.Index(fields=["holder", "created_at"])]
        constraints = [models.CheckConstraint(condition=Q(amount_fen__gt=0), name="withdrawal_amount_positive")]

    def __str__(self) -> str:
        return _("提现 %(out_bill_no)s") % {"out_bill_no": self.out_bill_no}

    @property
    def out_bill_no(self) -> str:
        """The merchant's bill number at the payout gateway."""
        return f"WD{self.pk:010d}"


class SandboxTransfer(models.Model):
    """The sandbox payout gateway's own record of a transfer (what WeChat would hold on its side)."""

    out_bill_no = models.CharField(max_length=32, unique=True)
    amount_fen = models.PositiveBigIntegerField()
    state = models.CharField(max_length=12, default="ACCEPTED")  # ACCEPTED → SUCCESS | FAIL
    fail_reason = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.out_bill_no} {self.state}"
