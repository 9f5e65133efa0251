"""Every staff write of the shops app. ``check_*`` validates and authorises, ``do_*`` changes data.

Each ``do_*`` runs in one transaction together with its audit-log row (actor, shop,
action, object, IP), so a write without its audit entry cannot happen.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.core import audit
from shequn.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied

from . import permissions
from .enums import StaffRole
from .models import DeliverySlot, PickupPoint, Shop, StaffMember
from .selectors import access_console_pickup_point, access_delivery_slot, access_staff_member, require_permission

UNPAID_TIMEOUT_RANGE = (5, 24 * 60)  # minutes
MAX_SHIPPING_FEE_FEN = 100_000  # ¥1,000
MAX_FREE_SHIPPING_THRESHOLD_FEN = 10_000_000
_CONTACT_PHONE = re.compile(r"^[0-9+\-() ]{5,20}$")
_USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{3,32}$")
MIN_PASSWORD_LENGTH = 8


def _invalid(field: str, message: str, code: str = "invalid_input") -> InvalidInput:
    return InvalidInput(message, code=code, details={"fields": {field: message}})


# --- staff and roles ---------------------------------------------------------------------------


def check_role(role: str) -> str:
    if role not in StaffRole.values:
        raise _invalid("role", _("请选择有效的角色"), "invalid_role")
    return role


def check_can_touch_owner(actor_membership: StaffMember, *, target: StaffMember | None, new_role: str | None) -> None:
    """Only an owner may make someone an owner or change an owner's row (admins cannot transfer ownership)."""
    touches_owner = new_role == StaffRole.OWNER or (target is not None and target.role == StaffRole.OWNER)
    if touches_owner and actor_membership.role != StaffRole.OWNER:
        raise PermissionDenied(_("只有店主可以设置或变更店主"), code="owner_only")


def _check_not_last_owner(shop: Shop, target: StaffMember) -> None:
    """Lock the shop's active owners (in pk order) and refuse to remove the last one."""
    if target.role != StaffRole.OWNER or not target.is_active:
        return
    owners = list(
        StaffMember.objects.select_for_update()
        .filter(shop=shop, role=StaffRole.OWNER, is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not [pk for pk in owners if pk != target.pk]:
        raise Conflict(_("店铺至少需要一位店主，不能移除最后一位店主"), code="last_owner")


def check_new_account(username: str, password: str) -> None:
    if not _USERNAME.match(username):
        raise _invalid("username", _("用户名须为 3–32 位字母、数字、下划线、点或短横线"), "invalid_username")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise _invalid(
            "password",
            _("初始密码至少 %(min_password_length)s 位") % {"min_password_length": MIN_PASSWORD_LENGTH},
            "password_too_short",
        )


def do_add_staff(
    shop: Shop, actor: Any, *, username: str, role: str, ip: str | None, new_password: str = ""
) -> StaffMember:
    """Add an account (by username) to the shop's staff, or re-activate it with a new role.

    With ``new_password``, a username that does not exist yet becomes a new staff account
    with that initial password. An existing account's password is never touched here: that
    would let a shop take over someone's account.
    """
    actor_membership = require_permission(actor, shop, permissions.MANAGE_STAFF)
    role = check_role(role)
    check_can_touch_owner(actor_membership, target=None, new_role=role)
    username = (username or "").strip()
    if not username:
        raise _invalid("username", _("请输入员工的用户名"), "username_required")
    user_model = get_user_model()
    with transaction.atomic():
        user = user_model.objects.filter(username=username, is_active=True).first()
        created_account = False
        if user is None and new_password:
            check_new_account(username, new_password)
            if user_model.objects.filter(username=username).exists():
                raise Conflict(_("该用户名已被占用"), code="username_taken")
            user = user_model.objects.create_user(username=username, password=new_password, nickname=username)
            created_account = True
        if user is None:
            raise NotFound(
                _("找不到该用户名对应的账号；如需新建账号，请同时填写初始密码"),
                code="user_not_found",
                details={"fields": {"username": _("找不到该用户")}},
            )
        row = StaffMember.objects.select_for_update().filter(shop=shop, user=user).first()
        if row is not None and row.is_active:
            raise Conflict(_("该账号已经是本店员工"), code="already_staff")
        if row is None:
            row = StaffMember.objects.create(shop=shop, user=user, role=role)
        else:
            row.role, row.is_active = role, True
            row.save(update_fields=["role", "is_active"])
        audit.record(
            actor=actor,
            shop=shop,
            action="staff.add",
            obj=row,
            ip=ip,
            username=username,
            role=role,
            created_account=created_account,
        )
    return row


def do_change_role(shop: Shop, actor: Any, staff_id: int, *, role: str, ip: str | None) -> StaffMember:
    actor_membership = require_permission(actor, shop, permissions.MANAGE_STAFF)
    role = check_role(role)
    with transaction.atomic():
        target = access_staff_member(shop, staff_id)
        check_can_touch_owner(actor_membership, target=target, new_role=role)
        if target.role == role:
            return target
        if role != StaffRole.OWNER:
            _check_not_last_owner(shop, target)
        old_role = target.role
        target.role = role
        target.save(update_fields=["role"])
        audit.record(
            actor=actor, shop=shop, action="staff.change_role", obj=target, ip=ip, old_role=old_role, new_role=role
        )
    return target


def do_deactivate_staff(shop: Shop, actor: Any, staff_id: int, *, ip: str | None) -> StaffMember:
    actor_membership = require_permission(actor, shop, permissions.MANAGE_STAFF)
    with transaction.atomic():
        target = access_staff_member(shop, staff_id)
        check_can_touch_owner(actor_membership, target=target, new_role=None)
        if not target.is_active:
            return target
        _check_not_last_owner(shop, target)
        target.is_active = False
        target.save(update_fields=["is_active"])
        audit.record(actor=actor, shop=shop, action="staff.deactivate", obj=target, ip=ip, role=target.role)
    return target


# --- pickup points --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PickupPointInput:
    name: str
    address: str
    opening_hours: str = ""
    contact_phone: str = ""


def check_pickup_point(data: PickupPointInput) -> dict[str, str]:
    errors: dict[str, str] = {}
    name = " ".join((data.name or "").split())
    address = " ".join((data.address or "").split())
    opening_hours = (data.opening_hours or "").strip()
    contact_phone = (data.contact_phone or "").strip()
    if not name:
        errors["name"] = _("请填写自提点名称")
    elif len(name) > 100:
        errors["name"] = _("名称最多 100 个字")
    if not address:
        errors["address"] = _("请填写自提点地址")
    elif len(address) > 255:
        errors["address"] = _("地址最多 255 个字")
    if len(opening_hours) > 100:
        errors["opening_hours"] = _("营业时间最多 100 个字")
    if contact_phone and not _CONTACT_PHONE.match(contact_phone):
        errors["contact_phone"] = _("请输入正确的联系电话")
    if errors:
        raise InvalidInput(next(iter(errors.values())), code="invalid_pickup_point", details={"fields": errors})
    return {"name": name, "address": address, "opening_hours": opening_hours, "contact_phone": contact_phone}


def do_create_pickup_point(shop: Shop, actor: Any, data: PickupPointInput, *, ip: str | None) -> PickupPoint:
    require_permission(actor, shop, permissions.MANAGE_SHOP)
    values = check_pickup_point(data)
    with transaction.atomic():
        point = PickupPoint.objects.create(shop=shop, **values)
        audit.record(actor=actor, shop=shop, action="pickup_point.create", obj=point, ip=ip, **values)
    return point


def do_update_pickup_point(
    shop: Shop, actor: Any, pickup_point_id: int, data: PickupPointInput, *, ip: str | None
) -> PickupPoint:
    require_permission(actor, shop, permissions.MANAGE_SHOP)
    values = check_pickup_point(data)
    with transaction.atomic():
        point = access_console_pickup_point(shop, pickup_point_id)
        changes = {
            name: [getattr(point, name), value] for name, value in values.items() if getattr(point, name) != value
        }
        for name, value in values.items():
            setattr(point, name, value)
        point.save()
        audit.record(actor=actor, shop=shop, action="pickup_point.update", obj=point, ip=ip, changes=changes)
    return point


def do_set_pickup_point_active(
    shop: Shop, actor: Any, pickup_point_id: int, *, active: bool, ip: str | None
) -> PickupPoint:
    """Retire or restore a pickup point. Points are never deleted: past orders refer to them."""
    require_permission(actor, shop, permissions.MANAGE_SHOP)
    with transaction.atomic():
        point = access_console_pickup_point(shop, pickup_point_id)
        if point.is_active != active:
            point.is_active = active
            point.save(update_fields=["is_active"])
            action = "pickup_point.activate" if active else "pickup_point.deactivate"
            audit.record(actor=actor, shop=shop, action=action, obj=point, ip=ip)
    return point


# --- shop settings -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShopSettingsInput:
    unpaid_timeout_minutes: int
    shipping_fee_fen: int
    free_shipping_threshold_fen: int
    cod_enabled: bool


def check_shop_settings(data: ShopSettingsInput) -> dict[str, Any]:
    errors: dict[str, str] = {}
    low, high = UNPAID_TIMEOUT_RANGE
    if not low <= data.unpaid_timeout_minutes <= high:
        errors["unpaid_timeout_minutes"] = _("未支付订单关闭时间须在 %(low)s–%(high)s 分钟之间") % {
            "low": low,
            "high": high,
        }
    if not 0 <= data.shipping_fee_fen <= MAX_SHIPPING_FEE_FEN:
        errors["shipping_fee_fen"] = _("运费须在 0–1000 元之间")
    if not 0 <= data.free_shipping_threshold_fen <= MAX_FREE_SHIPPING_THRESHOLD_FEN:
        errors["free_shipping_threshold_fen"] = _("包邮门槛须在 0–100000 元之间")
    if errors:
        raise InvalidInput(next(iter(errors.values())), code="invalid_shop_settings", details={"fields": errors})
    return {
        "unpaid_timeout_minutes": data.unpaid_timeout_minutes,
        "shipping_fee_fen": data.shipping_fee_fen,
        "free_shipping_threshold_fen": data.free_shipping_threshold_fen,
        "cod_enabled": bool(data.cod_enabled),
    }


def do_update_shop_settings(shop: Shop, actor: Any, data: ShopSettingsInput, *, ip: str | None) -> Shop:
    require_permission(actor, shop, permissions.MANAGE_SHOP)
    values = check_shop_settings(data)
    with transaction.atomic():
        locked = Shop.objects.select_for_update().get(pk=shop.pk)
        changes = {
            name: [getattr(locked, name), value] for name, value in values.items() if getattr(locked, name) != value
        }
        if changes:
            for name, value in values.items():
                setattr(locked, name, value)
            locked.save(update_fields=list(values))
        # Recorded even without changes: saving confirms the payment options, which ticks the
        # first-run guide's payment step (orders.selectors.first_run_guide).
        audit.record(actor=actor, shop=locked, action="shop.update_settings", obj=locked, ip=ip, changes=changes)
    for name, value in values.items():
        setattr(shop, name, value)
    return shop


# --- delivery slots (docs/adr/0007) -------------------------------------------------------------

MAX_SLOT_CAPACITY = 10_000
DEFAULT_CUTOFF = time(20, 0)  # the day before the slot, 20:00: the farm packs overnight


def default_cutoff(day: date) -> datetime:
    """The usual order cut-off of a slot on ``day``: the day before at 20:00, local time."""
    return timezone.make_aware(datetime.combine(day - timedelta(days=1), DEFAULT_CUTOFF))


@dataclass(frozen=True)
class DeliverySlotInput:
    date: date
    starts_at: time
    ends_at: time
    capacity: int
    cutoff_at: datetime | None = None  # None: the day before at 20:00


def _check_capacity(capacity: int, errors: dict[str, str]) -> None:
    if not isinstance(capacity, int) or not 1 <= capacity <= MAX_SLOT_CAPACITY:
        errors["capacity"] = _("可约单数须在 1–%(max_slot_capacity)s 之间") % {"max_slot_capacity": MAX_SLOT_CAPACITY}


def _aware(moment: datetime) -> datetime:
    """A time typed without an offset is the shop's local time (the console's and the farm's)."""
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _check_cutoff(cutoff_at: datetime, day: date, starts_at: time, errors: dict[str, str]) -> None:
    starts = timezone.make_aware(datetime.combine(day, starts_at))
    if cutoff_at > starts:
        errors["cutoff_at"] = _("截单时间不能晚于时段开始")


def check_delivery_slot(data: DeliverySlotInput, *, today: date) -> dict[str, Any]:
    errors: dict[str, str] = {}
    if data.date < today:
        errors["date"] = _("日期不能早于今天")
    if data.ends_at <= data.starts_at:
        errors["ends_at"] = _("结束时间须晚于开始时间")
    _check_capacity(data.capacity, errors)
    cutoff_at = _aware(data.cutoff_at) if data.cutoff_at else default_cutoff(data.date)
    _check_cutoff(cutoff_at, data.date, data.starts_at, errors)
    if errors:
        raise InvalidInput(next(iter(errors.values())), code="invalid_delivery_slot", details={"fields": errors})
    return {
        "date": data.date,
        "starts_at": data.starts_at,
        "ends_at": data.ends_at,
        "capacity": data.capacity,
        "cutoff_at": cutoff_at,
    }


def _audit_values(values: dict[str, Any]) -> dict[str, str]:
    return {name: str(value) for name, value in values.items()}


def do_create_delivery_slot(shop: Shop, actor: Any, data: DeliverySlotInput, *, ip: str | None) -> DeliverySlot:
    require_permission(actor, shop, permissions.MANAGE_DELIVERY_SLOTS)
    values = check_delivery_slot(data, today=timezone.localdate())
    try:
        with transaction.atomic():
            slot = DeliverySlot.objects.create(shop=shop, **values)
            audit.record(
                actor=actor, shop=shop, action="delivery_slot.create", obj=slot, ip=ip, **_audit_values(values)
            )
    except IntegrityError:
        message = _("这一天已有相同的时段")
        raise Conflict(message, code="slot_exists", details={"fields": {"date": message}}) from None
    return slot


def do_update_delivery_slot(
    shop: Shop,
    actor: Any,
    slot_id: int,
    *,
    capacity: int | None = None,
    cutoff_at: datetime | None = None,
    ip: str | None,
) -> DeliverySlot:
    """Change a slot's capacity or cut-off (None keeps it). The capacity never goes below the places
    taken: the update is conditional on ``booked``, so an order taking a place meanwhile cannot be lost."""
    require_permission(actor, shop, permissions.MANAGE_DELIVERY_SLOTS)
    with transaction.atomic():
        slot = access_delivery_slot(shop, slot_id)
        capacity = slot.capacity if capacity is None else capacity
        cutoff_at = slot.cutoff_at if cutoff_at is None else _aware(cutoff_at)
        errors: dict[str, str] = {}
        _check_capacity(capacity, errors)
        _check_cutoff(cutoff_at, slot.date, slot.starts_at, errors)
        if errors:
            raise InvalidInput(next(iter(errors.values())), code="invalid_delivery_slot", details={"fields": errors})
        changed = DeliverySlot.objects.filter(pk=slot.pk, booked__lte=capacity).update(
            capacity=capacity, cutoff_at=cutoff_at
        )
        if changed != 1:
            slot.refresh_from_db()
            message = _("已有 %(booked)s 单预约了这个时段，可约单数不能少于 %(booked)s") % {"booked": slot.booked}
            raise Conflict(message, code="capacity_below_booked", details={"fields": {"capacity": message}})
        changes = {
            name: [str(old), str(new)]
            for name, old, new in (("capacity", slot.capacity, capacity), ("cutoff_at", slot.cutoff_at, cutoff_at))
            if old != new
        }
        slot.refresh_from_db()
        audit.record(actor=actor, shop=shop, action="delivery_slot.update", obj=slot, ip=ip, changes=changes)
    return slot


def do_set_delivery_slot_open(shop: Shop, actor: Any, slot_id: int, *, is_open: bool, ip: str | None) -> DeliverySlot:
    """Close a slot to new orders (the ones booked keep it), or open it again."""
    require_permission(actor, shop, permissions.MANAGE_DELIVERY_SLOTS)
    with transaction.atomic():
        slot = access_delivery_slot(shop, slot_id)
        if DeliverySlot.objects.filter(pk=slot.pk).exclude(is_open=is_open).update(is_open=is_open) == 1:
            slot.is_open = is_open
            action = "delivery_slot.open" if is_open else "delivery_slot.close"
            audit.record(actor=actor, shop=shop, action=action, obj=slot, ip=ip)
    return slot


def do_set_delivery_slots_required(shop: Shop, actor: Any, *, required: bool, ip: str | None) -> Shop:
    """Whether delivery orders must choose a slot at checkout."""
    require_permission(actor, shop, permissions.MANAGE_DELIVERY_SLOTS)
    with transaction.atomic():
        if (
            Shop.objects.filter(pk=shop.pk)
            .exclude(delivery_slots_required=required)
            .update(delivery_slots_required=required)
        ):
            audit.record(
                actor=actor, shop=shop, action="shop.delivery_slots_required", obj=shop, ip=ip, required=required
            )
    shop.delivery_slots_required = required
    return shop
