"""Reads for shops and the staff-permission check every console write goes through."""

from typing import Any

from django.db.models import QuerySet

from shequn.core.errors import NotFound, PermissionDenied

from .models import PickupPoint, Shop, StaffMember
from .permissions import role_allows


def access_shop_by_slug(slug: str) -> Shop:
    shop = Shop.objects.filter(slug=slug).first()
    if shop is None:
        raise NotFound("店铺不存在", code="shop_not_found")
    return shop


def staff_shops(user: Any) -> QuerySet[Shop]:
    if not getattr(user, "is_authenticated", False):
        return Shop.objects.none()
    return Shop.objects.filter(staff__user=user, staff__is_active=True).order_by("id")


def staff_membership(user: Any, shop: Shop) -> StaffMember:
    """The caller's active staff row in ``shop``; NotFound for outsiders (a foreign shop looks absent)."""
    if not getattr(user, "is_authenticated", False):
        raise NotFound("店铺不存在", code="shop_not_found")
    membership = StaffMember.objects.filter(shop=shop, user=user, is_active=True).first()
    if membership is None:
        raise NotFound("店铺不存在", code="shop_not_found")
    return membership


def require_permission(user: Any, shop: Shop, permission: str) -> StaffMember:
    """Authorise a staff action: the caller must be active staff of ``shop`` with a role that allows it."""
    membership = staff_membership(user, shop)
    if not role_allows(membership.role, permission):
        raise PermissionDenied("你的角色没有此操作的权限", code="permission_denied")
    return membership


def active_pickup_points(shop: Shop) -> QuerySet[PickupPoint]:
    return PickupPoint.objects.filter(shop=shop, is_active=True).order_by("id")


def access_pickup_point(shop: Shop, pickup_point_id: int) -> PickupPoint:
    point = PickupPoint.objects.filter(shop=shop, pk=pickup_point_id, is_active=True).first()
    if point is None:
        raise NotFound("自提点不存在", code="pickup_point_not_found")
    return point
