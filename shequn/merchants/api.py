"""Onboarding and platform endpoints under /api/v1/merchants/: a member applies and follows the
application; platform staff decide applications, suspend / reinstate / close shops and search
the audit log of every shop. Platform routes are 403 for members and shop staff."""

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from shequn.core.audit import client_ip
from shequn.core.errors import NotAuthenticated
from shequn.core.schemas import Id, Page, PageQuery, error_responses, paginate

from . import actions, selectors
from .schemas import (
    ApplicationIn,
    ApplicationOut,
    ApplicationQuery,
    PlatformAuditEntryOut,
    PlatformAuditQuery,
    PlatformShopOut,
    PlatformShopQuery,
    ReasonIn,
    ShopMove,
)

router = Router(tags=["merchants"])

PLATFORM_ERRORS = error_responses(401, 403, 422)
DECISION_ERRORS = error_responses(401, 403, 404, 409, 422)


def _authenticated(request: HttpRequest) -> Any:
    if not request.user.is_authenticated:
        raise NotAuthenticated(_("请先登录"))
    return request.user


def _platform_staff(request: HttpRequest) -> Any:
    selectors.check_platform_staff(request.user)
    return request.user


@router.post("/applications", response={201: ApplicationOut, **error_responses(401, 409, 422)})
def apply(request: HttpRequest, payload: ApplicationIn) -> Any:
    """Apply to open a shop. It waits for a platform admin; the answer comes to the applicant's
    inbox. (A logo is uploaded on the page, /open-shop/.)"""
    user = _authenticated(request)
    return Status(201, actions.do_apply(user, actions.ApplicationInput(**payload.model_dump(mode="json"))))


@router.get("/applications/mine", response={200: Page[ApplicationOut], **error_responses(401, 422)})
def my_applications(request: HttpRequest, query: Query[PageQuery]) -> Any:
    """The caller's applications, newest first, with their status and any rejection reason."""
    user = _authenticated(request)
    return paginate(selectors.my_applications(user), query.page, query.page_size)


# --- platform staff ----------------------------------------------------------------------------


@router.get("/platform/applications", response={200: Page[ApplicationOut], **PLATFORM_ERRORS})
def list_applications(request: HttpRequest, query: Query[ApplicationQuery]) -> Any:
    """The applications queue: waiting ones first (oldest first), then decided ones."""
    _platform_staff(request)
    rows = selectors.applications(status=query.status or "")
    return paginate(rows, query.page, query.page_size)


@router.post("/platform/applications/{application_id}/approve", response={200: ApplicationOut, **DECISION_ERRORS})
def approve_application(request: HttpRequest, application_id: Id) -> Any:
    """Open the shop; the applicant becomes its owner. 409 when already decided or the slug was taken."""
    admin = _platform_staff(request)
    return actions.do_approve(admin, application_id, ip=client_ip(request))


@router.post("/platform/applications/{application_id}/reject", response={200: ApplicationOut, **DECISION_ERRORS})
def reject_application(request: HttpRequest, application_id: Id, payload: ReasonIn) -> Any:
    admin = _platform_staff(request)
    return actions.do_reject(admin, application_id, reason=payload.reason, ip=client_ip(request))


@router.get("/platform/shops", response={200: Page[PlatformShopOut], **PLATFORM_ERRORS})
def list_shops(request: HttpRequest, query: Query[PlatformShopQuery]) -> Any:
    """Every shop with its status, GMV (paid minus refunded, fen) and after-sales requests."""
    _platform_staff(request)
    rows = selectors.platform_shops(status=query.status or "", query=query.q)
    return paginate(rows, query.page, query.page_size)


@router.post("/platform/shops/{shop_id}/{move}", response={200: PlatformShopOut, **DECISION_ERRORS})
def change_shop_status(request: HttpRequest, shop_id: Id, move: ShopMove, payload: ReasonIn) -> Any:
    """Suspend (no orders, pages say so, console read-only), reinstate, or close (as suspended and
    hidden from the shop directory, for good). The reason goes to the shop's audit trail."""
    admin = _platform_staff(request)
    actions.do_change_shop_status(admin, shop_id, move, reason=payload.reason, ip=client_ip(request))
    return selectors.access_platform_shop(shop_id)


@router.get("/platform/audit", response={200: Page[PlatformAuditEntryOut], **PLATFORM_ERRORS})
def search_audit(request: HttpRequest, query: Query[PlatformAuditQuery]) -> Any:
    """Audit entries across shops, newest first, by shop, actor username, action prefix and days."""
    _platform_staff(request)
    filters = selectors.AuditFilters(
        shop_id=query.shop_id, actor=query.actor, action=query.action, since=query.since, until=query.until
    )
    return paginate(selectors.audit_search(filters), query.page, query.page_size)
