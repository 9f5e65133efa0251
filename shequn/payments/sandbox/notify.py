"""The sandbox's notification sender: signed, AES-GCM-encrypted callbacks, exactly as WeChat sends them.

One notification keeps its ``id`` and encrypted resource across every delivery; each
delivery is signed afresh (new timestamp and nonce) with the platform key active at that
moment. Non-2xx answers are retried on WeChat's schedule. ``behaviour`` lets tests ask
for duplicates, delays, held-back (and so out-of-order) deliveries.
"""

import datetime
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.utils import timezone

from shequn.core.events import on_commit

from ..gateways.wechat_v3 import dumps
from .keys import load_keys
from .protocol import encrypt_resource, signature_headers

logger = logging.getLogger("shequn.payments.sandbox")

# WeChat Pay's retry intervals after a failed delivery (15s, 15s, 30s, 3m, 10m, ... 6h).
RETRY_SCHEDULE_SECONDS = (15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600)

SUMMARIES = {
    "TRANSACTION.SUCCESS": "支付成功",
    "REFUND.SUCCESS": "退款成功",
    "REFUND.ABNORMAL": "退款异常",
    "REFUND.CLOSED": "退款关闭",
}


@dataclass
class Behaviour:
    """How the sandbox misbehaves. Module-level, per process: for tests and local experiments."""

    duplicates: int = 0  # extra copies of every delivery
    delay_seconds: int = 0  # wait before the first delivery (a scheduled Huey task)
    hold: bool = False  # keep notifications back until release_held(): lets tests reorder them
    refund_result: str = "SUCCESS"  # how refunds end: SUCCESS, ABNORMAL or CLOSED
    refund_delay_seconds: int = 0  # time the "bank" takes to finish a refund
    held: list[tuple[str, str]] = field(default_factory=list)  # (notify_url, body)


behaviour = Behaviour()


@contextmanager
def sandbox_behaviour(**changes: Any) -> Iterator[Behaviour]:
    global behaviour
    previous = behaviour
    behaviour = replace(previous, held=[], **changes)
    try:
        yield behaviour
    finally:
        behaviour = previous


def build_body(*, event_type: str, original_type: str, resource: dict[str, Any]) -> str:
    keys = load_keys()
    encrypted = encrypt_resource(keys.api_v3_key, dumps(resource), associated_data=original_type)
    envelope = {
        "id": str(uuid.uuid4()),
        "create_time": timezone.localtime().isoformat(timespec="seconds"),
        "resource_type": "encrypt-resource",
        "event_type": event_type,
        "summary": SUMMARIES.get(event_type, event_type),
        "resource": {"original_type": original_type, **encrypted},
    }
    return dumps(envelope)


def sign_headers(body: str, *, timestamp: str | None = None, serial: str | None = None) -> dict[str, str]:
    """The Wechatpay-* headers for ``body``, signed with the active platform key (or ``serial``'s)."""
    keys = load_keys()
    platform_key = keys.platform_keys[serial] if serial else keys.active_platform_key
    headers = signature_headers(platform_key.private_key, platform_key.serial, body, timestamp or "")
    return {**headers, "Content-Type": "application/json"}


def send_notification(*, notify_url: str, event_type: str, original_type: str, resource: dict[str, Any]) -> str:
    """Build a notification now and hand it to the delivery queue once the sandbox's books commit."""
    body = build_body(event_type=event_type, original_type=original_type, resource=resource)
    on_commit(_dispatch, notify_url, body)
    return body


def _dispatch(notify_url: str, body: str) -> None:
    if behaviour.hold:
        behaviour.held.append((notify_url, body))
        return
    for _ in range(1 + behaviour.duplicates):
        _enqueue(notify_url, body, attempt=0, delay=behaviour.delay_seconds)


def release_held(*, reverse: bool = False, duplicates: int = 0) -> int:
    """Deliver the held notifications (newest first when ``reverse``); returns how many were sent."""
    batch = list(reversed(behaviour.held)) if reverse else list(behaviour.held)
    behaviour.held.clear()
    for notify_url, body in batch:
        for _ in range(1 + duplicates):
            _enqueue(notify_url, body, attempt=0, delay=0)
    return len(batch)


def _enqueue(notify_url: str, body: str, *, attempt: int, delay: int) -> None:
    from .tasks import deliver_notification_task

    if delay:
        deliver_notification_task.schedule((notify_url, body, attempt), delay=delay)
    else:
        deliver_notification_task(notify_url, body, attempt)


def post(notify_url: str, body: str, headers: dict[str, str]) -> int:
    """POST one delivery; returns the HTTP status (0 when the server could not be reached)."""
    if settings.SANDBOX_PAY_DELIVERY == "inline":
        # Through Django's whole request stack (URLs, middleware, the real view) without a socket.
        from django.test import Client

        client = Client(raise_request_exception=False)
        response = client.post(
            urlsplit(notify_url).path,
            data=body.encode(),
            content_type="application/json",
            headers={key: value for key, value in headers.items() if key != "Content-Type"},
        )
        return response.status_code
    try:
        return httpx.post(notify_url, content=body.encode(), headers=headers, timeout=10).status_code
    except httpx.HTTPError as error:
        logger.warning("sandbox notification to %s failed: %s", notify_url, error)
        return 0


def deliver(notify_url: str, body: str, attempt: int = 0) -> int:
    """One delivery attempt; on a non-2xx answer the next attempt is scheduled as WeChat would."""
    status = post(notify_url, body, sign_headers(body))
    if not 200 <= status < 300:
        if attempt < len(RETRY_SCHEDULE_SECONDS):
            _enqueue(notify_url, body, attempt=attempt + 1, delay=RETRY_SCHEDULE_SECONDS[attempt])
        else:
            logger.error("sandbox notification to %s abandoned after %d attempts", notify_url, attempt + 1)
    return status


def rfc3339(moment: datetime.datetime | None) -> str:
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else ""
