"""Huey tasks for payouts: the sandbox's delayed result, and the reconciler."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import actions
from .payouts import SandboxPayoutGateway, sandbox_notification


@db_task(retries=3, retry_delay=30)
def deliver_sandbox_transfer(out_bill_no: str) -> str:
    """The sandbox decides the transfer and delivers its signed callback (as WeChat POSTs it)."""
    result = SandboxPayoutGateway().decide(out_bill_no)
    if result is None:
        return "unknown"
    headers, body = sandbox_notification(result.out_bill_no, result.state, result.fail_reason)
    actions.handle_payout_notification(headers, body)
    return result.state


@db_periodic_task(crontab(minute="*/5"))
def reconcile_payouts() -> int:
    """Every five minutes: settle withdrawals whose payout callback never arrived."""
    return actions.reconcile_payouts()
