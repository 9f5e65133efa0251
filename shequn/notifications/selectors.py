from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from shequn.core.errors import NotFound

from .models import Notification


def unread_count(user: Any) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def inbox(user: Any) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")


def access_notification(user: Any, notification_id: int) -> Notification:
    """One of the member's own messages; anyone else's id looks missing."""
    notification = Notification.objects.filter(user=user, pk=notification_id).first()
    if notification is None:
        raise NotFound(_("消息不存在"), code="notification_not_found")
    return notification
