"""Periodic settlement: orders have no completed signal, so a sweep settles frozen commission
on completed orders (idempotent: each commission row settles once, its ledger reference once)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import commissions


@db_periodic_task(crontab(minute="*/10"))
def settle_commissions() -> int:
    settled = total = commissions.settle_completed()
    while settled == commissions.SETTLE_BATCH:
        settled = commissions.settle_completed()
        total += settled
    return total
