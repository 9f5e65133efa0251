"""Reads for shops and the staff-permission check every console write goes through."""

from datetime import date, datetime
from typing import Any

from django.db.models import F, QuerySet
from django.utils.translation import gettext as _

from shequn.core.errors import NotFound, PermissionDenied
from shequn.core.models import AuditLog

from .enums import ShopStatus, StaffRole
from .errors import ShopUnavailable
from .models import DeliverySlot, PickupPoint, Shop, StaffMember
from .permissions import required_roles_hint, role_allows, roles_allowed


def access_shop_by_slug(slug: str) -> Shop:
    """The shop a member page or public endpoint names; a suspended or closed shop refuses
    (``check_shop_open``), so its pages say so instead of selling."""
    shop = Shop.objects.filter(slug=slug).first()
    if shop is None:
        raise NotFound(_("店铺不存在"), code="shop_not_found")
    check_shop_open(shop)
    return shop


def check_shop_open(shop: Shop) -> None:
    """ShopUnavailable (403) unless members may shop and order in ``shop``: the one check member
    pages and checkout make. The shop's data stays; only new business is refused."""
    if shop.status == ShopStatus.SUSPENDED:
        raise ShopUnavailable(
            _("「%(name)s」暂停营业中，暂不接受下单。已下的订单不受影响，可在「我的订单」中查看。")
            % {"name": shop.name},
            code="shop_suspended",
        )
    if shop.status == ShopStatus.CLOSED:
        raise ShopUnavailable(
            _("「%(name)s」已关闭，不再接受下单。已下的订单可在「我的订单」中查看。") % {"name": shop.name},
            code="shop_closed",
        )


def staff_shops(user: Any) -> QuerySet[Shop]:
    if not getattr(user, "is_authenticated", False):
        return Shop.objects.none()
    return Shop.objects.filter(staff__user=user, staff__is_active=True).order_by("id")


def staff_membership(user: Any, shop: Shop) -> StaffMember:
    """The caller's active staff row in ``shop``; NotFound for outsiders (a foreign shop looks absent)."""
    if not getattr(user, "is_authenticated", False):
        raise NotFound(_("店铺不存在"), code="shop_not_found")
    membership = StaffMember.objects.filter(shop=shop, user=user, is_active=True).first()
    if membership is None:
        raise NotFound(_("店铺不存在"), code="shop_not_found")
    return membership


def require_permission(user: Any, shop: Shop, permission: str) -> StaffMember:
    """Authorise a staff action: the caller must be active staff of ``shop`` with a role that allows it."""
    membership = staff_membership(user, shop)
    check_role_allows(membership, permission)
    return membership


def check_role_allows(membership: StaffMember, permission: str) -> None:
    """PermissionDenied naming the caller's role and the roles that may do it."""
    if not role_allows(membership.role, permission):
        role = str(StaffRole(membership.role).label) if membership.role in StaffRole.values else membership.role
        hint = required_roles_hint(permission)
        raise PermissionDenied(
            _("你的角色（%(role)s）没有此操作的权限") % {"role": role}
            + (_("，%(hint)s") % {"hint": hint} if hint else ""),
            code="permission_denied",
            details={"required_roles": roles_allowed(permission)},
        )


def active_pickup_points(shop: Shop) -> QuerySet[PickupPoint]:
    return PickupPoint.objects.filter(shop=shop, is_active=True).order_by("id")


def access_pickup_point(shop: Shop, pickup_point_id: int) -> PickupPoint:
    point = PickupPoint.objects.filter(shop=shop, pk=pickup_point_id, is_active=True).first()
    if point is None:
        raise NotFound(_("自提点不存在"), code="pickup_point_not_found")
    return point


def staff_list(shop: Shop, *, include_inactive: bool = True) -> QuerySet[StaffMember]:
    rows = StaffMember.objects.filter(shop=shop).select_related("user")
    if not include_inactive:
        rows = rows.filter(is_active=True)
    return rows.order_by("-is_active", "id")


def access_staff_member(shop: Shop, staff_id: int | str) -> StaffMember:
    """A staff row of ``shop``; another shop's id looks exactly like a missing one (404)."""
    try:
        pk = int(staff_id)
    except (TypeError, ValueError):
        pk = 0
    row = StaffMember.objects.filter(shop=shop, pk=pk).select_related("user").first()
    if row is None:
        raise NotFound(_("员工不存在"), code="staff_not_found")
    return row


def all_pickup_points(shop: Shop) -> QuerySet[PickupPoint]:
    """Console list: active and retired pickup points of the shop."""
    return PickupPoint.objects.filter(shop=shop).order_by("-is_active", "id")


def access_console_pickup_point(shop: Shop, pickup_point_id: int | str) -> PickupPoint:
    try:
        pk = int(pickup_point_id)
    except (TypeError, ValueError):
        pk = 0
    point = PickupPoint.objects.filter(shop=shop, pk=pk).first()
    if point is None:
        raise NotFound(_("自提点不存在"), code="pickup_point_not_found")
    return point


def audit_entries(shop: Shop, *, action: str = "", actor_id: int | None = None) -> QuerySet[AuditLog]:
    rows = AuditLog.objects.filter(shop=shop).select_related("actor")
    if action:
        rows = rows.filter(action__startswith=action)
    if actor_id:
        rows = rows.filter(actor_id=actor_id)
    return rows.order_by("-created_at", "-id")


def audit_actions(shop: Shop) -> list[str]:
    return list(AuditLog.objects.filter(shop=shop).values_list("action", flat=True).distinct().order_by("action"))


def shop_overview(shop: Shop) -> dict[str, int]:
    return {
        "staff_count": StaffMember.objects.filter(shop=shop, is_active=True).count(),
        "pickup_point_count": PickupPoint.objects.filter(shop=shop, is_active=True).count(),
    }


def shop_directory() -> QuerySet[Shop]:
    """Every shop of this deployment that is not closed, oldest first (the site root lists them)."""
    return Shop.objects.exclude(status=ShopStatus.CLOSED).order_by("id")


# --- delivery slots ---------------------------------------------------------------------


def bookable_delivery_slots(shop: Shop, now: datetime) -> QuerySet[DeliverySlot]:
    """Slots a member may choose at checkout now: open, before their cut-off, with a place left."""
    return DeliverySlot.objects.filter(shop=shop, is_open=True, cutoff_at__gt=now, booked__lt=F("capacity")).order_by(
        "date", "starts_at", "id"
    )


def console_delivery_slots(shop: Shop, *, since: date) -> QuerySet[DeliverySlot]:
    """The shop's slots from ``since`` on, for the console (closed and full ones too)."""
    return DeliverySlot.objects.filter(shop=shop, date__gte=since).order_by("date", "starts_at", "id")


def access_delivery_slot(shop: Shop, slot_id: int, *, lock: bool = False) -> DeliverySlot:
    """A slot of ``shop``; another shop's id looks missing (404)."""
    rows = DeliverySlot.objects.select_for_update() if lock else DeliverySlot.objects.all()
    slot = rows.filter(shop=shop, pk=slot_id).first()
    if slot is None:
        raise NotFound(_("配送时段不存在"), code="slot_not_found")
    return slot
