from django.db import models
from django.utils.translation import gettext_lazy


class AccountKind(models.TextChoices):
    """The ledger's accounts. A shop has one of each shop kind; a holder (promoter, leader) one of
    each holder kind per shop. Balances are signed: money moves as entries that sum to zero."""

    # The shop's side.
    COMMISSION_EXPENSE = "commission_expense", gettext_lazy("佣金支出")  # debited (negative) as commission is earned
    # Debited as red packets are funded, credited by returns.
    PROMOTION_EXPENSE = "promotion_expense", gettext_lazy("营销支出")
    # Funded red packets not yet grabbed nor returned.
    RED_PACKET_HOLDING = "red_packet_holding", gettext_lazy("红包待领取")
    # Stored value (storedvalue app): debited as top-ups are paid, credited as principal is paid back.
    STORED_VALUE_FUNDS = "stored_value_funds", gettext_lazy("储值收款")
    # Credited as members pay orders from their balances, debited as those orders are refunded.
    BALANCE_SALES = "balance_sales", gettext_lazy("余额消费")
    # A holder's side (a promoter or a group-buy leader).
    FROZEN = "frozen", gettext_lazy("冻结中")  # earned on a paid order, waiting for the after-sales window
    AVAILABLE = "available", gettext_lazy("可提现")  # settled; may be withdrawn. Negative = a debt from a reversal
    IN_TRANSIT = "in_transit", gettext_lazy("提现中")  # asked for and approved, the payout not yet confirmed
    PAID_OUT = "paid_out", gettext_lazy("已提现")  # confirmed by the payout gateway
    # Money the member may not withdraw (red packets when the shop says so); spendable at
    # checkout once stored value exists.
    SPENDABLE = "spendable", gettext_lazy("不可提现余额")
    # A member's stored value: what they paid in (may be asked back) and the shop's bonus (never
    # paid out), kept apart; principal asked back waits in STORED_REFUNDING until the gateway refunds it.
    STORED_PRINCIPAL = "stored_principal", gettext_lazy("储值本金")
    STORED_BONUS = "stored_bonus", gettext_lazy("储值赠送")
    STORED_REFUNDING = "stored_refunding", gettext_lazy("本金退还中")


# The withdrawal flow's holder kinds (SPENDABLE is a holder's too, outside that flow).
HOLDER_KINDS = (AccountKind.FROZEN, AccountKind.AVAILABLE, AccountKind.IN_TRANSIT, AccountKind.PAID_OUT)
# What the holder's wallet page shows (stored value has its own page: storedvalue, ADR 0021).
WALLET_KINDS = (*HOLDER_KINDS, AccountKind.SPENDABLE)
SHOP_KINDS = (
    AccountKind.COMMISSION_EXPENSE,
    AccountKind.PROMOTION_EXPENSE,
    AccountKind.RED_PACKET_HOLDING,
    AccountKind.STORED_VALUE_FUNDS,
    AccountKind.BALANCE_SALES,
)


# What a deleted account gives up (back to the shop's PROMOTION_EXPENSE): money the shop gave and
# the member may not take out — red packets kept as balance, a stored-value bonus.
FORFEITED_KINDS = (AccountKind.SPENDABLE, AccountKind.STORED_BONUS)


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
