"""Reads of the accounts app. A member only ever reaches their own addresses and tokens."""

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from shequn.core.errors import NotFound
from shequn.core.phone import mask_phone

from .models import Address, ApiToken, User


def my_addresses(user: Any) -> QuerySet[Address]:
    return Address.objects.filter(user=user).order_by("-is_default", "-created_at", "-id")


def default_address(user: Any) -> Address | None:
    return my_addresses(user).first()


def access_address(user: Any, address_id: int | str) -> Address:
    """The member's own address; another member's id looks exactly like a missing one (404)."""
    try:
        pk = int(address_id)
    except (TypeError, ValueError):
        pk = 0
    address = Address.objects.filter(user=user, pk=pk).first() if getattr(user, "pk", None) else None
    if address is None:
        raise NotFound(_("地址不存在"), code="address_not_found")
    return address


def my_tokens(user: Any) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def access_token(user: Any, token_id: int) -> ApiToken:
    row = ApiToken.objects.filter(user=user, pk=token_id).first()
    if row is None:
        raise NotFound(_("令牌不存在"), code="token_not_found")
    return row


def phone_for_viewer(phone: str | None, *, owner: Any, viewer: Any) -> str:
    """The full number for its owner, 138****1234 for everyone else (PIPL)."""
    if getattr(viewer, "pk", None) is not None and getattr(owner, "pk", None) == viewer.pk:
        return phone or ""
    return mask_phone(phone or "")


def active_members(member_ids: Iterable[int], *, lock: bool = False) -> set[int]:
    """Which of these accounts are still active (a deleted account is anonymised and inactive). With
    ``lock`` their rows are locked in id order until the caller's transaction ends: an account
    deletion takes its row first, so it either waits for the caller or the caller sees it deleted
    (a red packet or a prize written for a member in flight never reaches an anonymised account)."""
    users = User.objects.filter(pk__in=sorted(set(member_ids)), is_active=True).order_by("pk")
    if lock:
        users = users.select_for_update()
    return set(users.values_list("pk", flat=True))
