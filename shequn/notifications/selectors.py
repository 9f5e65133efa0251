from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
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


# What a subscribe message can fill a template's keywords with.
SUBSCRIBE_FIELDS = ("title", "note", "time")
# The keywords of a template configured by its id alone.
DEFAULT_TEMPLATE_FIELDS = {"title": "thing1", "note": "thing2"}


def _templates() -> dict[str, tuple[str, dict[str, str]]]:
    """Our template keys → (WeChat template id, our field → its keyword), as configured in
    ``WECHAT_SUBSCRIBE_TEMPLATES`` (an id alone, or ``{"id": …, "fields": {…}}``)."""
    if not settings.WECHAT_APP_ID:
        return {}
    templates = {}
    for key, value in settings.WECHAT_SUBSCRIBE_TEMPLATES.items():
        if isinstance(value, str):
            template_id, fields = value, DEFAULT_TEMPLATE_FIELDS
        else:
            template_id, fields = value.get("id", ""), value.get("fields") or DEFAULT_TEMPLATE_FIELDS
        unknown = set(fields) - set(SUBSCRIBE_FIELDS)
        if unknown:
            raise ImproperlyConfigured(f"WECHAT_SUBSCRIBE_TEMPLATES[{key!r}]: unknown fields {sorted(unknown)}")
        if template_id:
            templates[key] = (template_id, dict(fields))
    return templates


def template_ids() -> dict[str, str]:
    """Our template keys → the WeChat template ids configured for them (unconfigured ones are left out;
    all of them without an official account)."""
    return {key: template_id for key, (template_id, fields) in _templates().items()}


def template_fields(template: str) -> dict[str, str]:
    """Our fields → the keywords of the WeChat template configured for ``template``."""
    configured = _templates().get(template)
    return configured[1] if configured else dict(DEFAULT_TEMPLATE_FIELDS)


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
