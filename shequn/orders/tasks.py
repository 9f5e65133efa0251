"""Thin Huey tasks over orders.actions; each is safe to run twice."""

from datetime import datetime

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import actions


@db_task(retries=3, retry_delay=30)
def close_expired_order(order_id: int) -> bool:
    """Scheduled at the order's deadline; does nothing once the order was paid, cancelled or closed."""
    return actions.close_unpaid_order(order_id)


@db_periodic_task(crontab(minute="*"))
def sweep_expired_orders() -> int:
    """Every minute: close what the ETA task missed (consumer down, task lost)."""
    return actions.close_expired_orders()


@db_periodic_task(crontab(minute="7"))
def complete_delivered_orders() -> int:
    """Hourly: orders delivered or picked up more than the after-sales window ago become completed."""
    return actions.auto_complete_orders()


def schedule_close(order_id: int, expires_at: datetime) -> None:
    close_expired_order.schedule(args=(order_id,), eta=expires_at)
