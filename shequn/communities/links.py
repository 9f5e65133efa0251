"""Absolute invite links and their QR codes (segno, SVG)."""

import io
from typing import Any
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.urls import reverse

from .models import Community


def invite_url(community: Community, *, inviter: Any = None) -> str:
    """The join link; with ``inviter`` it carries ``?from=<user id>`` so the join records them."""
    url = settings.SITE_URL + reverse("communities:join", args=[community.invite_code])
    if inviter is not None and getattr(inviter, "pk", None):
        url += "?" + urlencode({"from": inviter.pk})
    return url


def qr_svg(text: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="svg", scale=6, border=2, xmldecl=True, title="邀请二维码")
    return buffer.getvalue()
