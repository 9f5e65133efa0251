"""Writes to the member's inbox; every order and refund step comes through ``notify``."""

from collections.abc import Callable, Iterable, Mapping
from functools import cache
from typing import Any

from django.conf import settings
from django.db.models import CharField, F, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone, translation
from django.utils.module_loading import import_string

from shequn.core.events import on_commit
from shequn.core.i18n import readers_by_language
from shequn.core.sql import insert_from, insert_values
from shequn.wechat import client as wechat_client
from shequn.wechat import selectors as wechat_selectors

from .channels import Channel
from .enums import SubscribeMessageStatus, SubscribeTemplate
from .models import Notification, SubscribeConsent, SubscribeMessage
from .selectors import template_fields, template_ids


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


# --- WeChat subscribe messages (订阅通知) ------------------------------------------------------

# Which inbox message kinds also go out as which subscribe message.
SUBSCRIBE_KINDS = {
    "order.paid": SubscribeTemplate.ORDER_PAID,
    "order.shipped": SubscribeTemplate.ORDER_SHIPPED,
    "order.ready_for_pickup": SubscribeTemplate.PICKUP_READY,
    "flashsale.started": SubscribeTemplate.FLASHSALE_STARTED,
    "refund.refunded": SubscribeTemplate.REFUND_DONE,
}
# Waits before the 2nd, 3rd… attempt after a failure; then the message is given up as failed.
SUBSCRIBE_RETRY_SECONDS = (30, 120, 600, 1800, 7200)
# What the subscribe dialog (the ``wx-open-subscribe`` tag's ``success`` event) may report per template.
ACCEPTED, REFUSALS = "accept", {"reject", "ban"}  # "cancel" (dialog closed) and "filter" say nothing


def record_subscribe_results(user: Any, results: Mapping[str, str]) -> list[str]:
    """Record what WeChat's subscribe dialog reported, ``{template id: "accept" | "reject" | …}``.
    Returns the template keys now accepted. Unknown template ids are ignored."""
    by_id = {template_id: key for key, template_id in template_ids().items()}
    now = timezone.now()
    accepted = []
    for template_id, result in results.items():
        key = by_id.get(template_id)
        if key is None:
            continue
        if result == ACCEPTED:
            SubscribeConsent.objects.update_or_create(
                user=user, template=key, defaults={"accepted_at": now, "withdrawn_at": None, "withdrawn_reason": ""}
            )
            accepted.append(key)
        elif result in REFUSALS:
            _withdraw(user.pk, key, "rejected")
    return accepted


def opt_out(user: Any, template: str) -> None:
    """The member turns one template off."""
    _withdraw(user.pk, template, "opt_out")


def _withdraw(user_id: int, template: str, reason: str) -> None:
    SubscribeConsent.objects.filter(user_id=user_id, template=template, withdrawn_at__isnull=True).update(
        withdrawn_at=timezone.now(), withdrawn_reason=reason
    )


def _consenting() -> QuerySet[SubscribeConsent]:
    """Standing consents of members bound to the official account (without an openid nothing can be sent)."""
    return SubscribeConsent.objects.filter(
        withdrawn_at__isnull=True, user__wechat_bindings__app_id=settings.WECHAT_APP_ID
    )


def queue_subscribe_message(notification: Notification) -> SubscribeMessage | None:
    """The subscribe message of one inbox message, when its kind has a template the member accepted.
    Idempotent: the event key is the notification's, so a second delivery queues nothing."""
    template = SUBSCRIBE_KINDS.get(notification.kind)
    if template is None or template not in template_ids():
        return None
    if not _consenting().filter(user_id=notification.user_id, template=template).exists():
        return None
    message, created = SubscribeMessage.objects.get_or_create(
        event_key=f"{notification.kind}:notification:{notification.pk}",
        defaults={
            "user_id": notification.user_id,
            "template": template,
            "title": notification.title[:100],
            "body": notification.body[:500],
            "page": notification.link[:255],
        },
    )
    if created:
        on_commit(_enqueue_send, message.pk, 0)
    return message


def queue_subscribe_messages_from(
    template: str, users: QuerySet[Any], *, event_prefix: str, texts: Callable[[], tuple[str, str]], page: str
) -> int:
    """``queue_subscribe_message`` for many members at once, set-based: per language, one INSERT …
    SELECT of the consenting members among ``users`` (a ``values("user_id")``-like queryset) who
    read it, with the (title, note) ``texts()`` builds in that language; event key ``event_prefix``
    + user id (duplicates skipped). Returns how many were queued."""
    if template not in template_ids():
        return 0
    # Every NOT NULL column is given: SQLite's INSERT OR IGNORE would skip a row missing one silently.
    fields = ["user_id", "template", "event_key", "title", "body", "page", "status", "attempts", "error", "created_at"]
    queued = 0
    for language, readers in readers_by_language("user__language"):
        with translation.override(language):
            title, body = texts()
        rows = (
            _consenting()
            .filter(readers, template=template, user_id__in=users)
            .values_list(
                "user_id",
                Value(template),
                Concat(Value(event_prefix), Cast("user_id", CharField())),
                Value(title[:100]),
                Value(body[:500]),
                Value(page[:255]),
                Value(SubscribeMessageStatus.PENDING),
                Value(0),
                Value(""),
                Value(timezone.now()),
            )
        )
        queued += insert_from(SubscribeMessage, fields, rows, ignore_conflicts=True)
    if queued:
        on_commit(_enqueue_pending, event_prefix)
    return queued


def _enqueue_send(message_id: int, delay: int) -> None:
    from .tasks import send_subscribe_message_task

    if delay:
        send_subscribe_message_task.schedule((message_id,), delay=delay)
    else:
        send_subscribe_message_task(message_id)


def _enqueue_pending(event_prefix: str) -> None:
    pending = SubscribeMessage.objects.filter(status=SubscribeMessageStatus.PENDING, event_key__startswith=event_prefix)
    for message_id in pending.order_by("id").values_list("pk", flat=True).iterator():
        _enqueue_send(message_id, 0)


# WeChat's limits per field type (订阅消息参数值内容限制): a longer value is refused with 47003.
FIELD_LIMITS = {"thing": 20, "character_string": 32, "number": 32, "letter": 32, "symbol": 5, "phrase": 5, "name": 10}


def fit_field(key: str, text: str) -> str:
    """``text`` on one line, cut to what the field's type allows (with an ellipsis when cut)."""
    value = " ".join(text.split())
    limit = FIELD_LIMITS.get(key.rstrip("0123456789"))
    if limit is not None and len(value) > limit:
        value = value[: limit - 1] + "…"
    return value


def message_data(message: SubscribeMessage) -> dict[str, dict[str, str]]:
    """The template's keywords filled from the message, as its configured fields map them."""
    sent_at = timezone.localtime(message.created_at)
    values = {
        "title": message.title,
        "note": message.body or message.title,
        # WeChat's time type: 24-hour, with the date as its documentation writes it (2019年10月1日 15:01).
        "time": f"{sent_at.year}年{sent_at.month}月{sent_at.day}日 {sent_at:%H:%M}",
    }
    return {
        keyword: {"value": fit_field(keyword, values[field])}
        for field, keyword in template_fields(message.template).items()
    }


def send_subscribe_message(message_id: int) -> str:
    """Send one queued subscribe message; safe to run twice (only the run that claims it sends).

    43101 (no subscription left) withdraws the member's consent; other failures retry with growing
    waits (``SUBSCRIBE_RETRY_SECONDS``), then the message is marked failed. Returns the new status."""
    claimed = SubscribeMessage.objects.filter(pk=message_id, status=SubscribeMessageStatus.PENDING).update(
        status=SubscribeMessageStatus.SENDING, attempts=F("attempts") + 1
    )
    if not claimed:
        return ""
    message = SubscribeMessage.objects.select_related("user").get(pk=message_id)
    binding = wechat_selectors.binding_for(message.user)
    template_id = template_ids().get(message.template, "")
    consenting = _consenting().filter(user=message.user, template=message.template).exists()
    if not binding or not template_id or not consenting:
        return _finish(message, SubscribeMessageStatus.SKIPPED, error="no consent, openid or template id")
    url = f"{settings.SITE_URL}{message.page}" if message.page.startswith("/") else message.page
    try:
        wechat_client.send_subscribe_message(
            openid=binding.openid, template_id=template_id, url=url, data=message_data(message)
        )
    except wechat_client.WechatError as error:
        if error.errcode == wechat_client.SUBSCRIPTION_REFUSED:
            _withdraw(message.user_id, message.template, "refused_43101")
            return _finish(message, SubscribeMessageStatus.SKIPPED, errcode=error.errcode, error=str(error))
        if message.attempts > len(SUBSCRIBE_RETRY_SECONDS):
            return _finish(message, SubscribeMessageStatus.FAILED, errcode=error.errcode, error=str(error))
        _finish(message, SubscribeMessageStatus.PENDING, errcode=error.errcode, error=str(error))
        _enqueue_send(message.pk, SUBSCRIBE_RETRY_SECONDS[message.attempts - 1])
        return SubscribeMessageStatus.PENDING
    return _finish(message, SubscribeMessageStatus.SENT, sent_at=timezone.now())


def _finish(message: SubscribeMessage, status: str, **fields: Any) -> str:
    fields.setdefault("error", "")
    fields["error"] = str(fields["error"])[:255]
    claimed = SubscribeMessage.objects.filter(pk=message.pk, status=SubscribeMessageStatus.SENDING)
    claimed.update(status=status, **fields)
    return status
