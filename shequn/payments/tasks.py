"""Thin Huey tasks over payments.actions; each is safe to run twice."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import actions
from .sandbox import tasks as sandbox_tasks  # registers the sandbox's delivery tasks with the consumer

__all__ = ["close_gateway_payments", "reconcile_payments", "sandbox_tasks"]


@db_periodic_task(crontab(minute="*/5"))
def reconcile_payments() -> int:
    """Every 5 minutes: ask the gateway about payments and refunds whose notification never came."""
    return actions.reconcile()


@db_periodic_task(crontab(minute="*"))
def close_gateway_payments() -> int:
    """Every minute: close at the gateway the payments of orders that closed or were cancelled."""
    return actions.close_gateway_payments()
