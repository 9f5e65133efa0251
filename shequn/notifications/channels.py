"""Delivery channels. The inbox is always on; WeChat subscribe messages when configured; SMS later.

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


class WechatSubscribeChannel:
    """WeChat subscribe messages (订阅消息) for the kinds that have a template the member accepted."""

    name = "wechat_subscribe"

    def deliver(self, notification: Notification) -> None:
        from .actions import queue_subscribe_message

        queue_subscribe_message(notification)
