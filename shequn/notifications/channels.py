"""Delivery channels. The inbox is always on; WeChat template messages and SMS plug in later.

A channel receives a saved ``Notification`` and delivers it its own way. Channels are
listed in ``settings.NOTIFICATION_CHANNELS`` and called after commit.
"""

from typing import Protocol

from .models import Notification


class Channel(Protocol):
    name: str

    def deliver(self, notification: Notification) -> None: ...


class InboxChannel:
    """The in-app inbox: the row itself is the delivery, nothing more to do."""

    name = "inbox"

    def deliver(self, notification: Notification) -> None:
        return None
