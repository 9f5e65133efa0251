"""Stable error codes of the payments app. Codes never change once shipped; messages are zh-hans."""

from shequn.core.errors import Conflict, NotFound


class OrderNotPayable(Conflict):
    """The order is not waiting for an online payment (paid, closed, cancelled or COD)."""

    code = "order_not_payable"


class OrderAlreadyPaid(Conflict):
    code = "order_already_paid"


class NotCashOnDelivery(Conflict):
    code = "not_cash_on_delivery"


class PaymentMissing(Conflict):
    """A refund was approved for an order with no successful payment."""

    code = "payment_missing"


class PayPageNotFound(NotFound):
    code = "prepay_not_found"
