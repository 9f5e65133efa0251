from django.db import models
from django.utils.translation import gettext_lazy


class AccountKind(models.TextChoices):
    """The ledger's accounts. A shop has one of each shop kind; a holder (promoter, leader) one of
    each holder kind per shop. Balances are signed: money moves as entries that sum to zero."""

    # The shop's side.
    COMMISSION_EXPENSE = "commission_expense", gettext_lazy("佣金支出")  # debited (negative) as commission is earned
    # A holder's side (a promoter or a group-buy leader).
    FROZEN = "frozen", gettext_lazy("冻结中")  # earned on a paid order, waiting for the after-sales window
    AVAILABLE = "available", gettext_lazy("可提现")  # settled; may be withdrawn. Negative = a debt from a reversal
    IN_TRANSIT = "in_transit", gettext_lazy("提现中")  # asked for and approved, the payout not yet confirmed
    PAID_OUT = "paid_out", gettext_lazy("已提现")  # confirmed by the payout gateway


HOLDER_KINDS = (AccountKind.FROZEN, AccountKind.AVAILABLE, AccountKind.IN_TRANSIT, AccountKind.PAID_OUT)
SHOP_KINDS = (AccountKind.COMMISSION_EXPENSE,)


class WithdrawalStatus(models.TextChoices):
    """requested → (first_approved →) paying → paid | failed; requested/first_approved → rejected.
    The money sits in IN_TRANSIT from the request until paid (→ PAID_OUT) or rejected/failed
    (→ back to AVAILABLE, exactly once)."""

    REQUESTED = "requested", gettext_lazy("待审核")
    FIRST_APPROVED = "first_approved", gettext_lazy("待复核")  # above the second-approval amount: one more approver
    PAYING = "paying", gettext_lazy("打款中")  # handed to the payout gateway, result not known yet
    PAID = "paid", gettext_lazy("已到账")
    FAILED = "failed", gettext_lazy("打款失败")
    REJECTED = "rejected", gettext_lazy("已驳回")


OPEN_WITHDRAWAL_STATUSES = (WithdrawalStatus.REQUESTED, WithdrawalStatus.FIRST_APPROVED, WithdrawalStatus.PAYING)
