"""Signals the orders app sends inside its transactions, for the apps above it.

Receivers run in the sender's transaction with the order row locked, so what they write
commits or rolls back with the step they follow; an exception in a receiver undoes the step.

- ``refund_approved(sender=RefundRequest, refund=..., order=...)``: a refund was approved (by
  staff, by a product kind's rule, or automatically); payments pays it back through the gateway
  (``payments.actions.pay_approved_refund``).
- ``order_reinstating(sender=Order, order=...)``: a late payment is about to reinstate a closed
  order; only the order row is locked yet. Receivers lock the rows their lock order puts before
  the SKUs (a 接龙 campaign, a team), since reinstating takes stock next and then sends
  ``order_paid``, whose receivers lock those rows.
- ``order_paid(sender=Order, order=...)``: the order was paid (or a late payment reinstated it).
- ``order_released(sender=Order, order=...)``: an unpaid order was closed or cancelled and its
  stock given back.
- ``line_refunded(sender=Order, order=..., line=..., amount_fen=...)``: the gateway confirmed
  that ``amount_fen`` of ``line`` went back to the member.
"""

from django.dispatch import Signal

refund_approved = Signal()
order_reinstating = Signal()
order_paid = Signal()
order_released = Signal()
line_refunded = Signal()
