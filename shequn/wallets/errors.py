from shequn.core.errors import Conflict, InvalidInput, InvalidTransition, NotFound, PermissionDenied

from .ledger import InsufficientBalance


class WithdrawalNotFound(NotFound):
    code = "withdrawal_not_found"


class InvalidWithdrawalAmount(InvalidInput):
    code = "invalid_withdrawal_amount"


class DailyWithdrawalLimit(Conflict):
    code = "daily_withdrawal_limit"


class InvalidWithdrawalState(InvalidTransition):
    code = "invalid_withdrawal_state"


class SecondApproverRequired(PermissionDenied):
    code = "second_approver_required"


class InvalidPayoutNotification(InvalidInput):
    code = "invalid_payout_notification"


__all__ = [
    "DailyWithdrawalLimit",
    "InsufficientBalance",
    "InvalidPayoutNotification",
    "InvalidWithdrawalAmount",
    "InvalidWithdrawalState",
    "SecondApproverRequired",
    "WithdrawalNotFound",
]
