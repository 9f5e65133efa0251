"""Signals the events app sends for the apps above it.

``event_cancelled(sender=Event, event=..., paid_order_ids=[...])``: a published event was
called off inside the sending transaction; ``paid_order_ids`` are the orders of its confirmed
paid tickets, which the orders app refunds in full at once.
"""

from django.dispatch import Signal

event_cancelled = Signal()
