"""Coupon API under /api/v1/coupons: members (the claim centre, claim, my coupons) and operators
(/console/...: templates with figures, create, edit, issue to members)."""

from dataclasses import asdict
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from shequn.core.audit import client_ip
from shequn.core.schemas import Id, Page, PageQuery, error_responses, paginate
from shequn.shops.console import api_console_shop
from shequn.shops.permissions import MANAGE_CATALOG

from . import actions, selectors
from .actions import TemplateInput
from .schemas import (
    CentreCouponOut,
    CentreQuery,
    ClaimIn,
    CouponConsoleOut,
    CouponTemplateIn,
    IssueIn,
    IssueOut,
    MemberCouponOut,
    MyCouponsQuery,
)

router = Router(tags=["coupons"])
console = Router(tags=["coupons console"])

READ_ERRORS = error_responses(401, 422)
WRITE_ERRORS = error_responses(401, 403, 404, 409, 422)


@router.get("/centre", response={200: Page[CentreCouponOut], **error_responses(422)}, auth=None)
def claim_centre(request: HttpRequest, query: Query[CentreQuery]) -> dict[str, Any]:
    """领券中心: coupons members may claim now, newest first (of one shop with ``shop``); a
    community-only coupon says in ``refusal`` why the caller, outside its community, cannot claim it."""
    page = paginate(selectors.claim_centre(query.shop), query.page, query.page_size)
    audience = selectors.audience_of(request.user, page["items"])
    page["items"] = [CentreCouponOut.for_caller(template, audience) for template in page["items"]]
    return page


@router.post("/{int:template_id}/claim", response={201: MemberCouponOut, **WRITE_ERRORS})
def claim(request: HttpRequest, template_id: Id, body: ClaimIn) -> Status[Any]:
    """Claim one. 409 ``coupon_sold_out``, ``coupon_limit_reached``, ``coupon_not_claimable``; 403
    ``coupon_members_only``; 404 for an unknown coupon or a post without its card."""
    coupon = actions.claim(request.user, template_id, post_id=body.post_id)
    return Status(201, MemberCouponOut.from_model(coupon))


@router.get("/mine", response={200: Page[MemberCouponOut], **READ_ERRORS})
def my_coupons(request: HttpRequest, query: Query[MyCouponsQuery]) -> dict[str, Any]:
    """我的优惠券: ``tab`` usable (default), used or expired."""
    page = paginate(selectors.my_coupons(request.user, query.tab), query.page, query.page_size)
    page["items"] = [MemberCouponOut.from_model(coupon) for coupon in page["items"]]
    return page


# --- console ---------------------------------------------------------------------------


def _console_out(template_id: int, request: HttpRequest) -> dict[str, Any]:
    template = selectors.access_template(api_console_shop(request, MANAGE_CATALOG), template_id)
    return CouponConsoleOut.from_figures(template, selectors.template_figures([template])[template.pk])


@console.get("/templates", response={200: Page[CouponConsoleOut], **WRITE_ERRORS})
def console_templates(request: HttpRequest, query: Query[PageQuery]) -> dict[str, Any]:
    shop = api_console_shop(request, MANAGE_CATALOG)
    page = paginate(selectors.shop_templates(shop).select_related("shop"), query.page, query.page_size)
    figures = selectors.template_figures(page["items"])
    page["items"] = [CouponConsoleOut.from_figures(t, figures[t.pk]) for t in page["items"]]
    return page


@console.post("/templates", response={201: CouponConsoleOut, **WRITE_ERRORS})
def console_create(request: HttpRequest, body: CouponTemplateIn) -> Status[Any]:
    """Create a template. 422 ``coupon_invalid`` names the field (``details.field``)."""
    shop = api_console_shop(request, MANAGE_CATALOG)
    template = actions.create_template(shop, request.user, TemplateInput(**body.model_dump()), ip=client_ip(request))
    return Status(201, _console_out(template.pk, request))


@console.get("/templates/{int:template_id}", response={200: CouponConsoleOut, **WRITE_ERRORS})
def console_template(request: HttpRequest, template_id: Id) -> dict[str, Any]:
    return _console_out(template_id, request)


@console.put("/templates/{int:template_id}", response={200: CouponConsoleOut, **WRITE_ERRORS})
def console_update(request: HttpRequest, template_id: Id, body: CouponTemplateIn) -> dict[str, Any]:
    """Edit. Once a member holds one, what decides its worth is frozen: 422 ``coupon_invalid``."""
    shop = api_console_shop(request, MANAGE_CATALOG)
    actions.update_template(shop, request.user, template_id, TemplateInput(**body.model_dump()), ip=client_ip(request))
    return _console_out(template_id, request)


@console.post("/templates/{int:template_id}/issue", response={200: IssueOut, **WRITE_ERRORS})
def console_issue(request: HttpRequest, template_id: Id, body: IssueIn) -> dict[str, Any]:
    """Give one coupon each to a tag's members or to members by phone (audited)."""
    shop = api_console_shop(request, MANAGE_CATALOG)
    result = actions.issue_to_members(
        shop, request.user, template_id, tag_id=body.tag_id, phones=body.phones, ip=client_ip(request)
    )
    return asdict(result)


router.add_router("/console", console)
