from typing import Any

from django.db.models import QuerySet

from .models import Notification


def unread_count(user: Any) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def inbox(user: Any) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")
