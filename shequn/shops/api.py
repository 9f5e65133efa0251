"""Shop endpoints under /api/v1/shops/: public pickup points, operator staff, delivery slots and audit log.

Operator routes take the shop id in the path; a shop the caller does not work for is a 404,
a role without the permission a 403.
"""

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from shequn.core.audit import client_ip
from shequn.core.errors import NotAuthenticated
from shequn.core.schemas import Id, Page, PageQuery, Text, error_responses, paginate

from . import actions, permissions, selectors
from .console import api_console_shop
from .models import StaffMember
from .schemas import (
    AuditEntryOut,
    AuditQuery,
    DeliverySlotConsoleOut,
    DeliverySlotCreateIn,
    DeliverySlotUpdateIn,
    MyShopOut,
    PickupPointOut,
    StaffAddIn,
    StaffOut,
    StaffRoleIn,
)

router = Router(tags=["shops"])


def _authenticated(request: HttpRequest) -> Any:
    if not request.user.is_authenticated:
        raise NotAuthenticated(_("请先登录"))
    return request.user


@router.get("/mine", response={200: list[MyShopOut], **error_responses(401)})
def my_shops(request: HttpRequest) -> Any:
    """Shops the caller works for, with the caller's role in each."""
    user = _authenticated(request)
    rows = StaffMember.objects.filter(user=user, is_active=True).select_related("shop").order_by("shop_id")
    return [{"id": r.shop.pk, "name": r.shop.name, "slug": r.shop.slug, "role": r.role} for r in rows]


@router.get("/{slug}/pickup-points", auth=None, response={200: list[PickupPointOut], **error_responses(403, 404, 422)})
def pickup_points(request: HttpRequest, slug: Text) -> Any:
    """A shop's active pickup points, for the checkout picker."""
    return list(selectors.active_pickup_points(selectors.access_shop_by_slug(slug)))


@router.get("/{shop_id}/staff", response={200: Page[StaffOut], **error_responses(401, 403, 404, 422)})
def list_staff(request: HttpRequest, shop_id: Id, query: Query[PageQuery]) -> Any:
    user = _authenticated(request)
    shop = api_console_shop(request, permissions.MANAGE_STAFF, shop_id)
    result = paginate(selectors.staff_list(shop), query.page, query.page_size)
    result["items"] = [StaffOut.from_member(member, user) for member in result["items"]]
    return result


@router.post("/{shop_id}/staff", response={201: StaffOut, **error_responses(401, 403, 404, 409, 422)})
def add_staff(request: HttpRequest, shop_id: Id, payload: StaffAddIn) -> Any:
    user = _authenticated(request)
    shop = api_console_shop(request, permissions.MANAGE_STAFF, shop_id)
    row = actions.do_add_staff(
        shop,
        user,
        username=payload.username,
        role=payload.role,
        ip=client_ip(request),
        new_password=payload.new_password,
    )
    return Status(201, StaffOut.from_member(row, user))


@router.patch("/{shop_id}/staff/{staff_id}", response={200: StaffOut, **error_responses(401, 403, 404, 409, 422)})
def change_staff_role(request: HttpRequest, shop_id: Id, staff_id: Id, payload: StaffRoleIn) -> Any:
    user = _authenticated(request)
    shop = api_console_shop(request, permissions.MANAGE_STAFF, shop_id)
    row = actions.do_change_role(shop, user, staff_id, role=payload.role, ip=client_ip(request))
    return StaffOut.from_member(row, user)


@router.delete("/{shop_id}/staff/{staff_id}", response={200: StaffOut, **error_responses(401, 403, 404, 409, 422)})
def deactivate_staff(request: HttpRequest, shop_id: Id, staff_id: Id) -> Any:
    user = _authenticated(request)
    shop = api_console_shop(request, permissions.MANAGE_STAFF, shop_id)
    row = actions.do_deactivate_staff(shop, user, staff_id, ip=client_ip(request))
    return StaffOut.from_member(row, user)


@router.get("/{shop_id}/audit", response={200: Page[AuditEntryOut], **error_responses(401, 403, 404, 422)})
def audit_log(
    request: HttpRequest,
    shop_id: Id,
    query: Query[AuditQuery],
) -> Any:
    _authenticated(request)
    shop = api_console_shop(request, permissions.VIEW_AUDIT, shop_id)
    entries = selectors.audit_entries(shop, action=query.action, actor_id=query.actor_id)
    return paginate(entries, query.page, query.page_size)


# --- delivery slots (docs/adr/0007): the same actions as the console pages ------------------------

_SLOT_ERRORS = error_responses(401, 403, 404, 409, 422)


@router.get(
    "/{shop_id}/delivery-slots", response={200: list[DeliverySlotConsoleOut], **error_responses(401, 403, 404, 422)}
)
def list_delivery_slots(request: HttpRequest, shop_id: Id) -> Any:
    """The shop's slots from today on, closed and full ones too, soonest first."""
    _authenticated(request)
    shop = api_console_shop(request, permissions.MANAGE_DELIVERY_SLOTS, shop_id)
    return list(selectors.console_delivery_slots(shop, since=timezone.localdate()))


@router.post("/{shop_id}/delivery-slots", response={201: DeliverySlotConsoleOut, **_SLOT_ERRORS})
def create_delivery_slot(request: HttpRequest, shop_id: Id, payload: DeliverySlotCreateIn) -> Any:
    user = _authenticated(request)
    shop = api_console_shop(request, permissions.MANAGE_DELIVERY_SLOTS, shop_id)
    data = actions.DeliverySlotInput(**payload.model_dump())
    return Status(201, actions.do_create_delivery_slot(shop, user, data, ip=client_ip(request)))


@router.patch("/{shop_id}/delivery-slots/{slot_id}", response={200: DeliverySlotConsoleOut, **_SLOT_ERRORS})
def update_delivery_slot(request: HttpRequest, shop_id: Id, slot_id: Id, payload: DeliverySlotUpdateIn) -> Any:
    """Change the capacity or the cut-off; omitted fields stay as they are."""
    user = _authenticated(request)
    shop = api_console_shop(request, permissions.MANAGE_DELIVERY_SLOTS, shop_id)
    return actions.do_update_delivery_slot(
        shop, user, slot_id, capacity=payload.capacity, cutoff_at=payload.cutoff_at, ip=client_ip(request)
    )


@router.post("/{shop_id}/delivery-slots/{slot_id}/close", response={200: DeliverySlotConsoleOut, **_SLOT_ERRORS})
def close_delivery_slot(request: HttpRequest, shop_id: Id, slot_id: Id) -> Any:
    """No new orders for this slot; the ones booked keep it."""
    user = _authenticated(request)
    shop = api_console_shop(request, permissions.MANAGE_DELIVERY_SLOTS, shop_id)
    return actions.do_set_delivery_slot_open(shop, user, slot_id, is_open=False, ip=client_ip(request))


@router.post("/{shop_id}/delivery-slots/{slot_id}/open", response={200: DeliverySlotConsoleOut, **_SLOT_ERRORS})
def open_delivery_slot(request: HttpRequest, shop_id: Id, slot_id: Id) -> Any:
    user = _authenticated(request)
    shop = api_console_shop(request, permissions.MANAGE_DELIVERY_SLOTS, shop_id)
    return actions.do_set_delivery_slot_open(shop, user, slot_id, is_open=True, ip=client_ip(request))
