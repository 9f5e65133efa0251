"""Leaders API: members apply and read their own role and a leader's public card; operators
work the application queue and their leaders under /console/ (X-Shop header)."""

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from shequn.core.audit import client_ip
from shequn.core.errors import NotAuthenticated
from shequn.core.schemas import Id, Page, PageQuery, error_responses, paginate
from shequn.shops.console import api_console_shop
from shequn.shops.permissions import MANAGE_COMMUNITIES

from . import actions, selectors
from .enums import LeaderStatus
from .schemas import ApproveIn, LeaderApplyIn, LeaderOut, LeaderQuery, LeaderReasonIn, PublicLeaderOut, UpdateIn

router = Router(tags=["leaders"])
console = Router(tags=["leaders console"])

READ_ERRORS = error_responses(401, 404, 422)
WRITE_ERRORS = error_responses(401, 404, 409, 422)
CONSOLE_ERRORS = error_responses(401, 403, 404, 409, 422)


def _signed_in(request: HttpRequest) -> None:
    if not request.user.is_authenticated:
        raise NotAuthenticated(_("请先登录"), code="not_authenticated")


@router.post("/applications", response={201: LeaderOut, **WRITE_ERRORS})
def apply(request: HttpRequest, body: LeaderApplyIn) -> Status[LeaderOut]:
    """Apply to lead; 404 ``not_a_member`` for non-members of the shop's communities, 409
    ``leader_application_exists`` for a second application (a rejected member may apply again)."""
    _signed_in(request)
    shop = selectors.shop_by_slug(body.shop)
    leader = actions.do_apply(
        request.user,
        shop,
        community_id=body.community_id,
        sub_group_id=body.sub_group_id,
        note=body.note,
        point_name=body.point_name,
        point_address=body.point_address,
        opening_hours=body.opening_hours,
        contact_phone=body.contact_phone,
        latitude=body.latitude,
        longitude=body.longitude,
        capacity_per_day=body.capacity_per_day,
    )
    return Status(201, LeaderOut.from_model(selectors.access_leader(shop, leader.pk)))


@router.get("/me", response={200: Page[LeaderOut], **READ_ERRORS})
def my_roles(request: HttpRequest, query: Query[PageQuery]) -> dict:
    """The caller's leader roles and applications in every shop (newest first)."""
    _signed_in(request)
    page = paginate(selectors.my_leader_roles(request.user), query.page, query.page_size)
    page["items"] = [LeaderOut.from_model(leader) for leader in page["items"]]
    return page


@router.get("/{int:leader_id}", response={200: PublicLeaderOut, **READ_ERRORS})
def leader_card(request: HttpRequest, leader_id: Id) -> PublicLeaderOut:
    """An active leader's pickup point as members of their community see it (phone masked)."""
    _signed_in(request)
    return PublicLeaderOut.from_model(selectors.member_leader(request.user, leader_id))


# --- operator console ----------------------------------------------------------------


@console.get("/leaders", response={200: Page[LeaderOut], **CONSOLE_ERRORS})
def console_leaders(request: HttpRequest, query: Query[LeaderQuery]) -> dict:
    """``status=applied`` is the application queue (oldest first)."""
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    status = query.status if query.status in LeaderStatus.values else None
    page = paginate(selectors.shop_leaders(shop, status), query.page, query.page_size)
    page["items"] = [LeaderOut.from_model(leader) for leader in page["items"]]
    return page


@console.get("/leaders/{int:leader_id}", response={200: LeaderOut, **CONSOLE_ERRORS})
def console_leader(request: HttpRequest, leader_id: Id) -> LeaderOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    return LeaderOut.from_model(selectors.access_leader(shop, leader_id))


@console.post("/leaders/{int:leader_id}/approve", response={200: LeaderOut, **CONSOLE_ERRORS})
def console_approve(request: HttpRequest, leader_id: Id, body: ApproveIn) -> LeaderOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    leader = selectors.access_leader(shop, leader_id)
    actions.do_approve(
        shop, leader, commission_rate_bp=body.commission_rate_bp, actor=request.user, ip=client_ip(request)
    )
    return LeaderOut.from_model(selectors.access_leader(shop, leader_id))


@console.post("/leaders/{int:leader_id}/reject", response={200: LeaderOut, **CONSOLE_ERRORS})
def console_reject(request: HttpRequest, leader_id: Id, body: LeaderReasonIn) -> LeaderOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    leader = selectors.access_leader(shop, leader_id)
    actions.do_reject(shop, leader, reason=body.reason, actor=request.user, ip=client_ip(request))
    return LeaderOut.from_model(selectors.access_leader(shop, leader_id))


@console.post("/leaders/{int:leader_id}/suspend", response={200: LeaderOut, **CONSOLE_ERRORS})
def console_suspend(request: HttpRequest, leader_id: Id, body: LeaderReasonIn) -> LeaderOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    leader = selectors.access_leader(shop, leader_id)
    actions.do_suspend(shop, leader, reason=body.reason, actor=request.user, ip=client_ip(request))
    return LeaderOut.from_model(selectors.access_leader(shop, leader_id))


@console.post("/leaders/{int:leader_id}/resume", response={200: LeaderOut, **CONSOLE_ERRORS})
def console_resume(request: HttpRequest, leader_id: Id) -> LeaderOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    leader = selectors.access_leader(shop, leader_id)
    actions.do_resume(shop, leader, actor=request.user, ip=client_ip(request))
    return LeaderOut.from_model(selectors.access_leader(shop, leader_id))


@console.patch("/leaders/{int:leader_id}", response={200: LeaderOut, **CONSOLE_ERRORS})
def console_update(request: HttpRequest, leader_id: Id, body: UpdateIn) -> LeaderOut:
    """Commission rate (basis points, ≤ 5000), capacity and point details; the pickup point follows."""
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    leader = selectors.access_leader(shop, leader_id)
    actions.do_update(shop, leader, body.model_dump(exclude_unset=True), actor=request.user, ip=client_ip(request))
    return LeaderOut.from_model(selectors.access_leader(shop, leader_id))


router.add_router("/console", console)
