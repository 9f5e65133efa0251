"""Thin Huey tasks over orders.actions; each is safe to run twice."""

from collections.abc import Sequence
from datetime import datetime

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import actions


@db_task(retries=3, retry_delay=30)
def close_expired_order(*order_ids: int) -> int:
    """Scheduled at the orders' deadline (one task for the orders of a batch that share it); does
    nothing for an order already paid, cancelled or closed. Returns how many it closed."""
    return sum(actions.close_unpaid_order(order_id) for order_id in order_ids)


@db_periodic_task(crontab(minute="*"))
def sweep_expired_orders() -> int:
    """Every minute: close what the ETA task missed (consumer down, task lost)."""
    return actions.close_expired_orders()


@db_periodic_task(crontab(minute="7"))
def complete_delivered_orders() -> int:
    """Hourly: orders delivered or picked up more than the after-sales window ago become completed."""
    return actions.auto_complete_orders()


def schedule_close(order_ids: Sequence[int], expires_at: datetime) -> None:
    close_expired_order.schedule(args=tuple(order_ids), eta=expires_at)
