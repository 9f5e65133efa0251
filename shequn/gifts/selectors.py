"""Reads of gifts. The claim link's token is the only way to a gift that is not one's own."""

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from .errors import GiftNotFound
from .models import Gift


def access_claimable(token: str, *, lock: bool = False) -> Gift:
    rows = Gift.objects.select_related("shop", "sender")
    if lock:
        rows = rows.select_for_update(of=("self",))
    gift = rows.filter(token=token[:64]).first() if token else None
    if gift is None:
        raise GiftNotFound(_("礼物不存在或链接有误"))
    return gift


def sent_gifts(user: Any) -> QuerySet[Gift]:
    """The gifts ``user`` bought, newest first, with their order (never the recipient's address:
    a gift holds none; the recipient's orders are theirs)."""
    return Gift.objects.filter(sender=user).select_related("order", "recipient", "shop")


def received_gifts(user: Any) -> QuerySet[Gift]:
    return Gift.objects.filter(recipient=user).select_related("sender", "shop")
