"""Absolute invite links and their QR codes (segno, SVG or PNG)."""

import io
from typing import Any
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from .models import Channel, Community


def invite_url(community: Community, *, inviter: Any = None, channel: Channel | None = None) -> str:
    """The join link; ``?from=<user id>`` names the inviter and ``&ch=<code>`` the channel (渠道码),
    so the join records both."""
    url = settings.SITE_URL + reverse("communities:join", args=[community.invite_code])
    query: dict[str, Any] = {}
    if inviter is not None and getattr(inviter, "pk", None):
        query["from"] = inviter.pk
    if channel is not None:
        query["ch"] = channel.code
    return url + ("?" + urlencode(query) if query else "")


def qr_svg(text: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="svg", scale=6, border=2, xmldecl=True, title=_("邀请二维码"))
    return buffer.getvalue()


def qr_png(text: str, *, scale: int = 8) -> bytes:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=scale, border=2)
    return buffer.getvalue()
