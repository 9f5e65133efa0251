"""Reads for communities. Console reads go through ``access_*(shop, id)`` scoped to the shop."""

from typing import Any

from shequn.shops.models import Shop

from .models import CommunityMembership


def is_shop_member(user: Any, shop: Shop) -> bool:
    """Whether ``user`` belongs to any active community of ``shop`` (member prices apply)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return CommunityMembership.objects.filter(user=user, community__shop=shop, community__is_active=True).exists()
