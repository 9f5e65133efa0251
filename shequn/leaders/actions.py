"""Every leaders write. ``check_*`` validates, ``do_*`` changes data.

A current member of one of the shop's communities applies to lead for one of its sub-groups
(estates), proposing a pickup point; the operator (MANAGE_COMMUNITIES) approves (a
``shops.PickupPoint`` is created from the proposal and linked), rejects with a reason,
suspends, resumes and edits the commission rate and point details, which stay in step with
the pickup point. Every operator step is audited in its transaction; the member is notified.
"""

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.core import audit
from shequn.core.errors import DomainError, NotAuthenticated
from shequn.core.i18n import in_language_of
from shequn.core.phone import normalise_phone
from shequn.notifications.actions import notify
from shequn.shops.models import PickupPoint, Shop

from . import selectors
from .enums import LeaderStatus
from .errors import (
    ApplicationExists,
    InvalidApplication,
    InvalidCommissionRate,
    LeaderNotFound,
    LeaderTransitionRefused,
)
from .models import Leader

COMMISSION_MAX_BP = 5000  # 50%
CAPACITY_MAX = 10000
NOTE_MAX = 200
NAME_MAX = 100
ADDRESS_MAX = 255
HOURS_MAX = 100

# Fields of a proposal / a pickup point an operator may edit, and their pickup-point twins.
POINT_FIELDS = ("point_name", "point_address", "opening_hours", "contact_phone", "latitude", "longitude")
EDITABLE_FIELDS = (*POINT_FIELDS, "capacity_per_day", "commission_rate_bp")
_POINT_TWINS = {
    "point_name": "name",
    "point_address": "address",
    "opening_hours": "opening_hours",
    "contact_phone": "contact_phone",
}


def leader_home_path() -> str:
    return reverse("leaders:home")


# --- validation --------------------------------------------------------------------


def _text(value: Any) -> str:
    return str(value or "").strip()


def _coordinate(value: Any, limit: int, label: str, field: str, fields: dict[str, str]) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        fields[field] = _("%(label)s格式不正确") % {"label": label}
        return None
    if not number.is_finite() or not -limit <= number <= limit:
        fields[field] = _("%(label)s需在 -%(limit)s 到 %(limit)s 之间") % {"label": label, "limit": limit}
        return None
    return number.quantize(Decimal("0.000001"))


def _capacity(value: Any, fields: dict[str, str]) -> int | None:
    if value in (None, ""):
        return None
    try:
        capacity = int(str(value).strip())
    except ValueError:
        fields["capacity_per_day"] = _("每日接单上限需为整数")
        return None
    if not 1 <= capacity <= CAPACITY_MAX:
        fields["capacity_per_day"] = _("每日接单上限需在 1 到 %(max)s 之间（不限请留空）") % {"max": CAPACITY_MAX}
        return None
    return capacity


def check_point(data: dict[str, Any]) -> dict[str, Any]:
    """Clean the pickup-point proposal; every problem at once in ``details["fields"]``."""
    fields: dict[str, str] = {}
    name, address, hours = (
        _text(data.get("point_name")),
        _text(data.get("point_address")),
        _text(data.get("opening_hours")),
    )
    if not name:
        fields["point_name"] = _("请填写自提点名称")
    elif len(name) > NAME_MAX:
        fields["point_name"] = _("自提点名称不能超过 %(max)s 个字") % {"max": NAME_MAX}
    if not address:
        fields["point_address"] = _("请填写自提点地址")
    elif len(address) > ADDRESS_MAX:
        fields["point_address"] = _("地址不能超过 %(max)s 个字") % {"max": ADDRESS_MAX}
    if len(hours) > HOURS_MAX:
        fields["opening_hours"] = _("营业时间不能超过 %(max)s 个字") % {"max": HOURS_MAX}
    phone = _text(data.get("contact_phone"))
    if not phone:
        fields["contact_phone"] = _("请填写联系电话")
    else:
        try:
            phone = normalise_phone(phone)
        except DomainError as error:
            fields["contact_phone"] = error.message
    latitude = _coordinate(data.get("latitude"), 90, _("纬度"), "latitude", fields)
    longitude = _coordinate(data.get("longitude"), 180, _("经度"), "longitude", fields)
    if (latitude is None) != (longitude is None) and "latitude" not in fields and "longitude" not in fields:
        fields["latitude" if latitude is None else "longitude"] = _("经纬度需同时填写，或都留空")
    capacity = _capacity(data.get("capacity_per_day"), fields)
    if fields:
        raise InvalidApplication(next(iter(fields.values())), details={"fields": fields})
    return {
        "point_name": name,
        "point_address": address,
        "opening_hours": hours,
        "contact_phone": phone,
        "latitude": latitude,
        "longitude": longitude,
        "capacity_per_day": capacity,
    }


def check_commission_rate(value: Any) -> int:
    """Basis points, 0 to 5000 (0% to 50%)."""
    message = _("佣金比例需在 0% 到 50% 之间")
    try:
        rate = int(value)
    except (TypeError, ValueError):
        raise InvalidCommissionRate(message, details={"fields": {"commission_rate_bp": message}}) from None
    if not 0 <= rate <= COMMISSION_MAX_BP:
        raise InvalidCommissionRate(message, details={"fields": {"commission_rate_bp": message}})
    return rate


def commission_percent_to_bp(value: Any) -> int:
    """``"8.5"`` (percent, from a console form) → 850 basis points, validated."""
    message = _("佣金比例需在 0% 到 50% 之间")
    try:
        percent = Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidCommissionRate(message, details={"fields": {"commission_rate_bp": message}}) from None
    if not percent.is_finite():
        raise InvalidCommissionRate(message, details={"fields": {"commission_rate_bp": message}})
    bp = percent * 100
    if bp != bp.to_integral_value():
        precise = _("佣金比例最多保留两位小数")
        raise InvalidCommissionRate(precise, details={"fields": {"commission_rate_bp": precise}})
    return check_commission_rate(int(bp))


# --- members -----------------------------------------------------------------------


def check_application(user: Any, shop: Shop, community_id: Any, sub_group_id: Any) -> tuple[Any, Any]:
    """Which community and sub-group the member applies for; non-members of the shop get 404."""
    if not getattr(user, "is_authenticated", False):
        raise NotAuthenticated(_("请先登录"), code="not_authenticated")
    communities = selectors.require_applicable_communities(user, shop)
    fields: dict[str, str] = {}
    community = next((c for c in communities if str(c.pk) == str(community_id or "")), None)
    if community is None:
        if len(communities) == 1 and community_id in (None, ""):
            community = communities[0]
        else:
            fields["community"] = _("请选择你所在的社群")
    sub_group = None
    if community is not None:
        sub_groups = list(selectors.sub_groups_of([community]))
        sub_group = next((g for g in sub_groups if str(g.pk) == str(sub_group_id or "")), None)
        if sub_group is None and sub_groups:
            fields["sub_group"] = _("请选择你要负责的小区 / 分群")
    if fields:
        raise InvalidApplication(next(iter(fields.values())), details={"fields": fields})
    return community, sub_group


def _existing_refusal(leader: Leader) -> ApplicationExists:
    if leader.status == LeaderStatus.APPLIED:
        return ApplicationExists(_("你已提交过团长申请，请等待店铺审核"))
    return ApplicationExists(_("你已经是本店的团长，无需重复申请"))


def do_apply(
    user: Any,
    shop: Shop,
    *,
    community_id: Any,
    sub_group_id: Any = None,
    note: str = "",
    **point: Any,
) -> Leader:
    """One application per member per shop; a rejected member applies again on the same row."""
    community, sub_group = check_application(user, shop, community_id, sub_group_id)
    cleaned = check_point(point)
    note = _text(note)
    if len(note) > NOTE_MAX:
        message = _("申请说明不能超过 %(max)s 个字") % {"max": NOTE_MAX}
        raise InvalidApplication(message, details={"fields": {"note": message}})
    values = {**cleaned, "community": community, "sub_group": sub_group, "application_note": note}
    with transaction.atomic():
        existing = Leader.objects.select_for_update().filter(shop=shop, user=user).first()
        if existing is not None:
            if existing.status != LeaderStatus.REJECTED:
                raise _existing_refusal(existing)
            for name, value in values.items():
                setattr(existing, name, value)
            existing.status = LeaderStatus.APPLIED
            existing.decided_by, existing.decided_at, existing.decision_note = None, None, ""
            existing.save()
            return existing
        try:
            with transaction.atomic():
                return Leader.objects.create(shop=shop, user=user, status=LeaderStatus.APPLIED, **values)
        except IntegrityError:  # a double tap raced us to the row
            raise ApplicationExists(_("你已提交过团长申请，请等待店铺审核")) from None


# --- operator ----------------------------------------------------------------------


def _locked(shop: Shop, leader: Leader) -> Leader:
    locked = Leader.objects.select_for_update().filter(pk=leader.pk, shop=shop).first()
    if locked is None:
        raise LeaderNotFound(str(selectors.LEADER_NOT_FOUND))
    return locked


def _refresh(leader: Leader) -> Leader:
    leader.refresh_from_db()
    return leader


def _require_status(leader: Leader, *allowed: str, message: str) -> None:
    if leader.status not in allowed:
        raise LeaderTransitionRefused(message, details={"status": leader.status})


def do_approve(shop: Shop, leader: Leader, *, commission_rate_bp: Any, actor: Any, ip: str | None = None) -> Leader:
    rate = check_commission_rate(commission_rate_bp)
    with transaction.atomic():
        locked = _locked(shop, leader)
        _require_status(locked, LeaderStatus.APPLIED, message=_("只能审核待审核的申请"))
        point = PickupPoint.objects.create(
            shop=shop,
            name=locked.point_name,
            address=locked.point_address,
            opening_hours=locked.opening_hours,
            contact_phone=locked.contact_phone,
            is_active=True,
        )
        locked.pickup_point = point
        locked.status = LeaderStatus.ACTIVE
        locked.commission_rate_bp = rate
        locked.decided_by, locked.decided_at, locked.decision_note = actor, timezone.now(), ""
        locked.save()
        audit.record(
            actor=actor,
            shop=shop,
            action="leaders.approve",
            obj=locked,
            ip=ip,
            pickup_point_id=point.pk,
            commission_rate_bp=rate,
        )
        with in_language_of(locked.user):
            notify(
                locked.user,
                shop=shop,
                kind="leaders.approved",
                title=_("你的团长申请已通过"),
                body=_("自提点「%(name)s」已开通，佣金比例 %(rate)s%%。")
                % {"name": point.name, "rate": f"{rate / 100:g}"},
                link=leader_home_path(),
            )
    return _refresh(leader)


def _reason(reason: Any, required_message: str) -> str:
    reason = _text(reason)
    if not reason:
        raise InvalidApplication(
            required_message, code="reason_required", details={"fields": {"reason": required_message}}
        )
    if len(reason) > NOTE_MAX:
        message = _("原因不能超过 %(max)s 个字") % {"max": NOTE_MAX}
        raise InvalidApplication(message, code="reason_too_long", details={"fields": {"reason": message}})
    return reason


def do_reject(shop: Shop, leader: Leader, *, reason: Any, actor: Any, ip: str | None = None) -> Leader:
    reason = _reason(reason, _("请填写拒绝原因"))
    with transaction.atomic():
        locked = _locked(shop, leader)
        _require_status(locked, LeaderStatus.APPLIED, message=_("只能审核待审核的申请"))
        locked.status = LeaderStatus.REJECTED
        locked.decided_by, locked.decided_at, locked.decision_note = actor, timezone.now(), reason
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        audit.record(actor=actor, shop=shop, action="leaders.reject", obj=locked, ip=ip, reason=reason)
        with in_language_of(locked.user):
            notify(
                locked.user,
                shop=shop,
                kind="leaders.rejected",
                title=_("你的团长申请未通过"),
                body=_("原因：%(reason)s。你可以修改后重新申请。") % {"reason": reason},
                link=reverse("leaders:apply", args=[shop.slug]),
            )
    return _refresh(leader)


def do_suspend(shop: Shop, leader: Leader, *, reason: Any, actor: Any, ip: str | None = None) -> Leader:
    """No new campaigns for the leader; the pickup point stays open so open orders are handed out."""
    reason = _reason(reason, _("请填写暂停原因"))
    with transaction.atomic():
        locked = _locked(shop, leader)
        _require_status(locked, LeaderStatus.ACTIVE, message=_("只能暂停在职的团长"))
        locked.status = LeaderStatus.SUSPENDED
        locked.decision_note = reason
        locked.save(update_fields=["status", "decision_note"])
        audit.record(actor=actor, shop=shop, action="leaders.suspend", obj=locked, ip=ip, reason=reason)
        with in_language_of(locked.user):
            notify(
                locked.user,
                shop=shop,
                kind="leaders.suspended",
                title=_("你的团长资格已暂停"),
                body=_("原因：%(reason)s。已开始的接龙照常完成取货。") % {"reason": reason},
                link=leader_home_path(),
            )
    return _refresh(leader)


def do_resume(shop: Shop, leader: Leader, *, actor: Any, ip: str | None = None) -> Leader:
    with transaction.atomic():
        locked = _locked(shop, leader)
        _require_status(locked, LeaderStatus.SUSPENDED, message=_("只能恢复已暂停的团长"))
        locked.status = LeaderStatus.ACTIVE
        locked.decision_note = ""
        locked.save(update_fields=["status", "decision_note"])
        audit.record(actor=actor, shop=shop, action="leaders.resume", obj=locked, ip=ip)
        with in_language_of(locked.user):
            notify(
                locked.user,
                shop=shop,
                kind="leaders.resumed",
                title=_("你的团长资格已恢复"),
                body=_("你可以继续发起和参与接龙了。"),
                link=leader_home_path(),
            )
    return _refresh(leader)


def do_update(shop: Shop, leader: Leader, changes: dict[str, Any], *, actor: Any, ip: str | None = None) -> Leader:
    """Edit commission rate, capacity and point details; the pickup point follows in the same
    transaction. ``changes`` holds only the fields to change (``capacity_per_day: None`` = no limit)."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidApplication(
            _("不能修改的字段：%(unknown)s") % {"unknown": ", ".join(sorted(unknown))}, code="invalid_field"
        )
    with transaction.atomic():
        locked = _locked(shop, leader)
        merged = {name: changes.get(name, getattr(locked, name)) for name in (*POINT_FIELDS, "capacity_per_day")}
        cleaned = check_point(merged)
        if "commission_rate_bp" in changes:
            cleaned["commission_rate_bp"] = check_commission_rate(changes["commission_rate_bp"])
        changed = {name: value for name, value in cleaned.items() if getattr(locked, name) != value}
        if not changed:
            return _refresh(leader)
        for name, value in changed.items():
            setattr(locked, name, value)
        locked.save(update_fields=list(changed))
        twins = {_POINT_TWINS[name]: value for name, value in changed.items() if name in _POINT_TWINS}
        if twins and locked.pickup_point_id:
            PickupPoint.objects.filter(pk=locked.pickup_point_id).update(**twins)
        audit.record(
            actor=actor,
            shop=shop,
            action="leaders.update",
            obj=locked,
            ip=ip,
            changed=sorted(changed),
            commission_rate_bp=locked.commission_rate_bp,
        )
        if "commission_rate_bp" in changed and locked.status in (LeaderStatus.ACTIVE, LeaderStatus.SUSPENDED):
            with in_language_of(locked.user):
                notify(
                    locked.user,
                    shop=shop,
                    kind="leaders.commission_changed",
                    title=_("你的佣金比例已调整"),
                    body=_("新的佣金比例为 %(rate)s%%，适用于此后完成的订单。")
                    % {"rate": f"{locked.commission_rate_bp / 100:g}"},
                    link=leader_home_path(),
                )
        elif changed and locked.status in (LeaderStatus.ACTIVE, LeaderStatus.SUSPENDED):
            with in_language_of(locked.user):
                notify(
                    locked.user,
                    shop=shop,
                    kind="leaders.point_updated",
                    title=_("你的自提点信息已更新"),
                    body=_("店铺更新了自提点「%(point_name)s」的信息，请核对。") % {"point_name": locked.point_name},
                    link=leader_home_path(),
                )
    return _refresh(leader)
