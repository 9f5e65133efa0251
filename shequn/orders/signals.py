"""Signals the orders app sends inside its transactions, for the app above it (payments).

``refund_approved(sender=RefundRequest, refund=..., order=...)``: a refund was approved (by staff,
or by a product kind's rule, or automatically). The order row is locked by the caller; the
receiver pays the money back through the gateway (payments.actions.pay_approved_refund).
"""

from django.dispatch import Signal

refund_approved = Signal()
