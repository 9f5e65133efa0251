"""Console pages of the shops app: overview, staff and roles, audit log, pickup points, settings.

Thin: parse the form, call one action, redirect. Input mistakes and conflicts come back as
a flash message; a foreign id is a 404 and a missing permission a 403 (core middleware).
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shequn.core.audit import client_ip
from shequn.core.errors import Conflict, DomainError, InvalidInput, NotFound
from shequn.core.money import format_yuan_input, parse_yuan
from shequn.core.pages import field_errors
from shequn.core.phone import mask_phone

from . import actions, permissions, selectors
from .console import console_view, current_console_shop, set_console_shop
from .enums import StaffRole
from .forms import DeliverySlotEditForm, DeliverySlotForm, add_domain_error
from .models import Shop, StaffMember

AUDIT_PAGE_SIZE = 50


def _shop(request: HttpRequest) -> Shop:
    shop: Shop = request.console_shop  # type: ignore[attr-defined]
    return shop


def _staff(request: HttpRequest) -> StaffMember:
    staff: StaffMember = request.staff  # type: ignore[attr-defined]
    return staff


# --- staff and roles ---------------------------------------------------------------------------


def _staff_rows(request: HttpRequest, shop: Shop) -> list[dict[str, Any]]:
    rows = []
    for member in selectors.staff_list(shop):
        is_me = member.user_id == request.user.pk
        phone = member.user.phone or ""
        rows.append({"member": member, "is_me": is_me, "phone": phone if is_me else mask_phone(phone)})
    return rows


@console_view(permissions.MANAGE_STAFF)
@require_GET
def console_staff(request: HttpRequest) -> HttpResponse:
    shop = _shop(request)
    context = {
        "rows": _staff_rows(request, shop),
        "roles": StaffRole.choices,
        "role_permissions": [
            (label, [permissions.LABELS[name] for name in sorted(permissions.ROLE_PERMISSIONS[value])])
            for value, label in StaffRole.choices
        ],
    }
    return render(request, "shops/console/staff.html", context)


def _flash_domain_error(request: HttpRequest, error: InvalidInput | Conflict | NotFound) -> None:
    messages.error(request, error.message)


@console_view(permissions.MANAGE_STAFF)
@require_POST
def console_staff_add(request: HttpRequest) -> HttpResponse:
    try:
        row = actions.do_add_staff(
            _shop(request),
            request.user,
            username=request.POST.get("username", ""),
            role=request.POST.get("role", ""),
            ip=client_ip(request),
            new_password=request.POST.get("new_password", ""),
        )
    except (InvalidInput, Conflict, NotFound) as error:
        _flash_domain_error(request, error)
    else:
        messages.success(
            request,
            _("已添加员工 %(user)s（%(role)s）") % {"user": row.user, "role": row.get_role_display()},
        )
    return redirect("shops:console_staff")


@console_view(permissions.MANAGE_STAFF)
@require_POST
def console_staff_role(request: HttpRequest, staff_id: int) -> HttpResponse:
    try:
        row = actions.do_change_role(
            _shop(request), request.user, staff_id, role=request.POST.get("role", ""), ip=client_ip(request)
        )
    except (InvalidInput, Conflict) as error:
        _flash_domain_error(request, error)
    else:
        messages.success(
            request,
            _("%(user)s 的角色已改为%(role)s") % {"user": row.user, "role": row.get_role_display()},
        )
    return redirect("shops:console_staff")


@console_view(permissions.MANAGE_STAFF)
@require_POST
def console_staff_deactivate(request: HttpRequest, staff_id: int) -> HttpResponse:
    try:
        row = actions.do_deactivate_staff(_shop(request), request.user, staff_id, ip=client_ip(request))
    except (InvalidInput, Conflict) as error:
        _flash_domain_error(request, error)
    else:
        messages.success(request, _("已停用员工 %(user)s") % {"user": row.user})
    return redirect("shops:console_staff")


# --- audit log ------------------------------------------------------------------------------------


@console_view(permissions.VIEW_AUDIT)
@require_GET
def console_audit(request: HttpRequest) -> HttpResponse:
    shop = _shop(request)
    action = request.GET.get("action", "").strip()
    actor_raw = request.GET.get("actor", "").strip()
    actor_id = int(actor_raw) if actor_raw.isdigit() else None
    entries = selectors.audit_entries(shop, action=action, actor_id=actor_id)
    page = Paginator(entries, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "action": action,
        "actor_id": actor_id,
        "actions": selectors.audit_actions(shop),
        "staff": selectors.staff_list(shop),
    }
    return render(request, "shops/console/audit.html", context)


# --- pickup points ----------------------------------------------------------------------------------


def _pickup_point_input(request: HttpRequest) -> actions.PickupPointInput:
    return actions.PickupPointInput(
        name=request.POST.get("name", ""),
        address=request.POST.get("address", ""),
        opening_hours=request.POST.get("opening_hours", ""),
        contact_phone=request.POST.get("contact_phone", ""),
    )


@console_view(permissions.MANAGE_SHOP)
@require_http_methods(["GET", "POST"])
def console_pickup_points(request: HttpRequest) -> HttpResponse:
    shop = _shop(request)
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        data = _pickup_point_input(request)
        try:
            actions.do_create_pickup_point(shop, request.user, data, ip=client_ip(request))
        except InvalidInput as error:
            errors, values, status = field_errors(error), vars(data), error.status
        else:
            messages.success(request, _("自提点已添加"))
            return redirect("shops:console_pickup_points")
    context = {"points": selectors.all_pickup_points(shop), "errors": errors, "values": values}
    return render(request, "shops/console/pickup_points.html", context, status=status)


@console_view(permissions.MANAGE_SHOP)
@require_http_methods(["GET", "POST"])
def console_pickup_point_edit(request: HttpRequest, pickup_point_id: int) -> HttpResponse:
    shop = _shop(request)
    point = selectors.access_console_pickup_point(shop, pickup_point_id)
    errors: dict[str, str] = {}
    values = {name: getattr(point, name) for name in ("name", "address", "opening_hours", "contact_phone")}
    status = 200
    if request.method == "POST":
        data = _pickup_point_input(request)
        try:
            actions.do_update_pickup_point(shop, request.user, point.pk, data, ip=client_ip(request))
        except InvalidInput as error:
            errors, values, status = field_errors(error), vars(data), error.status
        else:
            messages.success(request, _("自提点已保存"))
            return redirect("shops:console_pickup_points")
    context = {"point": point, "errors": errors, "values": values}
    return render(request, "shops/console/pickup_point_form.html", context, status=status)


@console_view(permissions.MANAGE_SHOP)
@require_POST
def console_pickup_point_toggle(request: HttpRequest, pickup_point_id: int) -> HttpResponse:
    active = request.POST.get("active") == "1"
    point = actions.do_set_pickup_point_active(
        _shop(request), request.user, pickup_point_id, active=active, ip=client_ip(request)
    )
    messages.success(
        request,
        (_("自提点「%(name)s」已启用") if point.is_active else _("自提点「%(name)s」已停用")) % {"name": point.name},
    )
    return redirect("shops:console_pickup_points")


# --- delivery slots (docs/adr/0007) ------------------------------------------------------------------


def _slots_page(request: HttpRequest, form: DeliverySlotForm, status: int = 200) -> HttpResponse:
    shop = _shop(request)
    context = {
        "shop": shop,
        "slots": selectors.console_delivery_slots(shop, since=timezone.localdate()),
        "form": form,
        "now": timezone.now(),
    }
    return render(request, "shops/console/delivery_slots.html", context, status=status)


@console_view(permissions.MANAGE_DELIVERY_SLOTS)
@require_http_methods(["GET", "POST"])
def console_delivery_slots(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _slots_page(request, DeliverySlotForm())
    form = DeliverySlotForm(request.POST)
    if form.is_valid():
        try:
            slot = actions.do_create_delivery_slot(
                _shop(request), request.user, actions.DeliverySlotInput(**form.cleaned_data), ip=client_ip(request)
            )
        except DomainError as error:
            add_domain_error(form, error)
            return _slots_page(request, form, status=error.status)
        messages.success(request, _("已添加配送时段 %(label)s") % {"label": slot.label})
        return redirect("shops:console_delivery_slots")
    return _slots_page(request, form, status=422)


@console_view(permissions.MANAGE_DELIVERY_SLOTS)
@require_http_methods(["GET", "POST"])
def console_delivery_slot_edit(request: HttpRequest, slot_id: int) -> HttpResponse:
    shop = _shop(request)
    slot = selectors.access_delivery_slot(shop, slot_id)
    status = 200
    if request.method == "POST":
        form = DeliverySlotEditForm(request.POST)
        if form.is_valid():
            try:
                actions.do_update_delivery_slot(shop, request.user, slot.pk, **form.cleaned_data, ip=client_ip(request))
            except DomainError as error:
                add_domain_error(form, error)
                status = error.status
            else:
                messages.success(request, _("配送时段 %(label)s 已保存") % {"label": slot.label})
                return redirect("shops:console_delivery_slots")
        else:
            status = 422
    else:
        form = DeliverySlotEditForm(
            initial={"capacity": slot.capacity, "cutoff_at": timezone.localtime(slot.cutoff_at)}
        )
    return render(request, "shops/console/delivery_slot_form.html", {"slot": slot, "form": form}, status=status)


@console_view(permissions.MANAGE_DELIVERY_SLOTS)
@require_POST
def console_delivery_slot_open(request: HttpRequest, slot_id: int) -> HttpResponse:
    is_open = request.POST.get("open") == "1"
    slot = actions.do_set_delivery_slot_open(
        _shop(request), request.user, slot_id, is_open=is_open, ip=client_ip(request)
    )
    messages.success(
        request,
        (_("配送时段 %(label)s 已开放预约") if slot.is_open else _("配送时段 %(label)s 已关闭预约"))
        % {"label": slot.label},
    )
    return redirect("shops:console_delivery_slots")


@console_view(permissions.MANAGE_DELIVERY_SLOTS)
@require_POST
def console_delivery_slots_required(request: HttpRequest) -> HttpResponse:
    required = request.POST.get("required") == "1"
    actions.do_set_delivery_slots_required(_shop(request), request.user, required=required, ip=client_ip(request))
    messages.success(request, _("快递订单须选择配送时段") if required else _("快递订单可不选配送时段"))
    return redirect("shops:console_delivery_slots")


# --- shop settings ---------------------------------------------------------------------------------------


def _int_field(raw: str, field: str) -> int:
    raw = (raw or "").strip()
    if not raw.isdigit():
        message = _("请输入整数")
        raise InvalidInput(message, code="invalid_number", details={"fields": {field: message}})
    return int(raw)


@console_view(permissions.MANAGE_SHOP)
@require_http_methods(["GET", "POST"])
def console_settings(request: HttpRequest) -> HttpResponse:
    shop = _shop(request)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        post = request.POST
        try:
            data = actions.ShopSettingsInput(
                unpaid_timeout_minutes=_int_field(post.get("unpaid_timeout_minutes", ""), "unpaid_timeout_minutes"),
                shipping_fee_fen=parse_yuan(
                    post.get("shipping_fee_yuan"), max_fen=actions.MAX_SHIPPING_FEE_FEN, field="shipping_fee_fen"
                ),
                free_shipping_threshold_fen=parse_yuan(
                    post.get("free_shipping_threshold_yuan"),
                    max_fen=actions.MAX_FREE_SHIPPING_THRESHOLD_FEN,
                    field="free_shipping_threshold_fen",
                ),
                cod_enabled=post.get("cod_enabled") in {"1", "on", "true"},
            )
            actions.do_update_shop_settings(shop, request.user, data, ip=client_ip(request))
        except InvalidInput as error:
            errors, status = field_errors(error), error.status
        else:
            messages.success(request, _("店铺设置已保存"))
            return redirect("shops:console_settings")
    values = {
        "unpaid_timeout_minutes": request.POST.get("unpaid_timeout_minutes", shop.unpaid_timeout_minutes),
        "shipping_fee_yuan": request.POST.get("shipping_fee_yuan", format_yuan_input(shop.shipping_fee_fen)),
        "free_shipping_threshold_yuan": request.POST.get(
            "free_shipping_threshold_yuan", format_yuan_input(shop.free_shipping_threshold_fen)
        ),
        "cod_enabled": shop.cod_enabled if request.method == "GET" else request.POST.get("cod_enabled") == "1",
    }
    context = {"shop": shop, "errors": errors, "values": values}
    return render(request, "shops/console/settings.html", context, status=status)


# --- switching shops ----------------------------------------------------------------------------------------


@login_required(login_url="/console/login/")
@require_http_methods(["GET", "POST"])
def console_switch_shop(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        shop_id = request.POST.get("shop_id", "")
        shop = set_console_shop(request, int(shop_id) if shop_id.isdigit() else 0)
        messages.success(request, _("已切换到 %(name)s") % {"name": shop.name})
        return redirect("orders:console_dashboard")
    shops = selectors.staff_shops(request.user)
    context = {"shops": shops, "console_shop": current_console_shop(request)}
    return render(request, "shops/console/switch_shop.html", context)
