"""Writes to the member's inbox; every order and refund step comes through ``notify``."""

from collections.abc import Iterable
from functools import cache
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from shequn.core.events import on_commit
from shequn.core.sql import insert_from, insert_values

from .channels import Channel
from .models import Notification


@cache
def _outside_channels() -> tuple[Channel, ...]:
    """The configured channels other than the inbox (the inbox row itself is its delivery)."""
    channels = (import_string(path)() for path in settings.NOTIFICATION_CHANNELS)
    return tuple(channel for channel in channels if channel.name != "inbox")


def _deliver(notification_id: int) -> None:
    notification = Notification.objects.get(pk=notification_id)
    for channel in _outside_channels():
        channel.deliver(notification)


def notify(user: Any, *, shop: Any, kind: str, title: str, body: str = "", link: str = "") -> Notification:
    """Put a message in ``user``'s inbox now; other channels deliver it after commit."""
    notification = Notification.objects.create(user=user, shop=shop, kind=kind, title=title, body=body, link=link)
    # With only the inbox configured there is nothing to deliver: no after-commit re-read.
    if _outside_channels():
        on_commit(_deliver, notification.pk)
    return notification


def notify_many(shop: Any, kind: str, messages: Iterable[tuple[int, str, str, str]]) -> list[int]:
    """``notify`` for a batch: (user id, title, body, link) each, inserted in one statement.
    Returns the new messages' ids, in order."""
    returned = insert_values(
        Notification,
        [
            {"user_id": user_id, "shop_id": shop.pk, "kind": kind, "title": title, "body": body, "link": link}
            for user_id, title, body, link in messages
        ],
        returning=("id",),
    )
    ids = [pk for (pk,) in returned]
    if _outside_channels():
        for pk in ids:
            on_commit(_deliver, pk)
    return ids


# What a queryset given to ``notify_from`` selects, in this order.
NOTIFY_FROM_FIELDS = ["user_id", "shop_id", "kind", "title", "body", "link", "created_at"]


def notify_from(rows: QuerySet[Any]) -> int:
    """``notify`` for many members at once, set-based: ``rows`` is a ``values_list`` giving
    (user id, shop id, kind, title, body, link, created at) per message, written by one INSERT …
    SELECT (no Python object per message). Returns how many were written. Inbox only: outside
    channels are not called for these (none but the inbox exists yet; one that comes will need a
    bulk send of its own, not a call per message)."""
    return insert_from(Notification, NOTIFY_FROM_FIELDS, rows)


def mark_read(user: Any, notification_ids: list[int] | None = None) -> int:
    """Mark the member's own notifications read (all unread when no ids). Returns how many changed."""
    rows: QuerySet[Notification] = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_ids is not None:
        rows = rows.filter(pk__in=notification_ids)
    return rows.update(read_at=timezone.now())
