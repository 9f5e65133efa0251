"""Huey tasks of the sandbox gateway (imported by payments.tasks so the consumer registers them)."""

from huey.contrib.djhuey import db_task


@db_task()
def deliver_notification_task(notify_url: str, body: str, attempt: int = 0) -> None:
    from .notify import deliver

    deliver(notify_url, body, attempt)


@db_task()
def finish_refund_task(out_refund_no: str, status: str) -> None:
    from .server import finish_refund

    finish_refund(out_refund_no, status)
