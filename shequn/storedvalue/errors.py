"""Stable error codes of stored value."""

from shequn.core.errors import Conflict, InvalidInput, NotFound


class PlanInvalid(InvalidInput):
    """A top-up plan the console or the API tried to save breaks a rule (``details["fields"]``)."""

    code = "top_up_plan_invalid"


class PlanNotFound(NotFound):
    code = "top_up_plan_not_found"


class BalanceNotUsable(Conflict):
    """This order cannot be paid from a balance (a top-up itself)."""

    code = "balance_not_usable"


class NothingToRefund(Conflict):
    """The member has no unused principal to ask back."""

    code = "no_principal_to_refund"
