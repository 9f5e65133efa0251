from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from shequn.core.errors import NotFound

from .enums import SubscribeTemplate
from .models import Notification, SubscribeConsent


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


def template_ids() -> dict[str, str]:
    """Our template keys → the WeChat template ids configured for them (unconfigured ones are left out;
    all of them without an official account)."""
    if not settings.WECHAT_APP_ID:
        return {}
    return {key: value for key, value in settings.WECHAT_SUBSCRIBE_TEMPLATES.items() if value}


def subscriptions(user: Any) -> list[dict[str, Any]]:
    """Each configured subscribe message template with whether ``user`` currently accepts it."""
    accepted = set(
        SubscribeConsent.objects.filter(user=user, withdrawn_at__isnull=True).values_list("template", flat=True)
    )
    return [
        {
            "template": key,
            "label": str(SubscribeTemplate(key).label),
            "template_id": template_id,
            "accepted": key in accepted,
        }
        for key, template_id in template_ids().items()
    ]
