"""Distribution API: members apply to promote a shop and arrive through promoter codes;
operators set the shop's rules and decide applications under /console/ (X-Shop header)."""

import json
from dataclasses import asdict
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from shequn.core.audit import client_ip
from shequn.core.errors import NotAuthenticated
from shequn.core.schemas import Id, Page, Text, error_responses, paginate
from shequn.shops.console import api_console_shop
from shequn.shops.permissions import MANAGE_CATALOG
from shequn.shops.selectors import access_shop_by_slug

from . import actions, figures, links, selectors
from .enums import PromoterStatus
from .errors import PromoterNotFound
from .schemas import (
    ConsolePromoterOut,
    DistributionSettingsIn,
    DistributionSettingsOut,
    FiguresOut,
    LevelIn,
    LevelOut,
    OpenBody,
    PromoterFiguresOut,
    PromoterOut,
    PromoterQuery,
    RuleIn,
    RuleOut,
    ShareLinkOut,
    VisitIn,
    VisitOut,
)

router = Router(tags=["distribution"])

# 403: the platform suspended or closed the shop (shop_suspended, shop_closed).
MEMBER_ERRORS = error_responses(401, 403, 404, 409, 422)
CONSOLE_ERRORS = error_responses(401, 403, 404, 422)


@router.post("/shops/{slug}/promoter", response={201: PromoterOut, **MEMBER_ERRORS})
def apply(request: HttpRequest, slug: Text) -> Status[PromoterOut]:
    """Apply to promote the shop: free, no purchase needed (approved at once if the shop auto-approves)."""
    promoter = actions.do_apply(request.user, access_shop_by_slug(slug))
    return Status(201, PromoterOut.from_model(promoter))


@router.get("/shops/{slug}/promoter", response={200: PromoterOut, **MEMBER_ERRORS})
def my_promoter(request: HttpRequest, slug: Text) -> PromoterOut:
    if not request.user.is_authenticated:
        raise NotAuthenticated(_("请先登录"), code="not_authenticated")
    promoter = selectors.my_promoter(request.user, access_shop_by_slug(slug))
    if promoter is None:
        raise PromoterNotFound(_("你还不是本店推广员"))
    return PromoterOut.from_model(promoter)


@router.get("/shops/{slug}/promoter/figures", response={200: PromoterFiguresOut, **MEMBER_ERRORS})
def my_figures(request: HttpRequest, slug: Text) -> PromoterFiguresOut:
    """Visitors, bound customers and team (tier 2) with masked names, orders, commission by status."""
    if not request.user.is_authenticated:
        raise NotAuthenticated(_("请先登录"), code="not_authenticated")
    promoter = selectors.my_promoter(request.user, access_shop_by_slug(slug))
    if promoter is None:
        raise PromoterNotFound(_("你还不是本店推广员"))
    return PromoterFiguresOut(**figures.promoter_figures(promoter))


@router.get("/shops/{slug}/promoter/links", response={200: list[ShareLinkOut], **MEMBER_ERRORS})
def my_links(request: HttpRequest, slug: Text) -> list[ShareLinkOut]:
    """An approved promoter's links for the shop home and its latest products, each with its QR code."""
    if not request.user.is_authenticated:
        raise NotAuthenticated(_("请先登录"), code="not_authenticated")
    promoter = selectors.my_promoter(request.user, access_shop_by_slug(slug))
    if promoter is None or promoter.status != PromoterStatus.APPROVED:
        raise PromoterNotFound(_("你还不是本店推广员"))
    return [
        ShareLinkOut(
            title=share["title"],
            target=share["target"],
            link=request.build_absolute_uri(share["link"]),
            qr=request.build_absolute_uri(reverse("distribution:qr", args=[promoter.code]))
            + "?"
            + urlencode({"to": share["target"]}),
        )
        for share in links.shares(promoter)
    ]


@router.post("/visits", response={200: VisitOut, **error_responses(401, 404, 422)})
def visit(request: HttpRequest, body: VisitIn) -> VisitOut:
    """Record an arrival through a promoter code; a signed-in visitor is bound to the promoter
    (422 ``self_referral`` / ``referral_cycle``; 404 ``invalid_code``)."""
    device = actions.device_hash(client_ip(request), request.headers.get("User-Agent", ""))
    found, binding = actions.record_visit(body.code, request.user, device=device, target=body.target)
    return VisitOut(
        promoter_code=found.promoter.code,
        bound=binding is not None,
        bound_promoter_code=binding.promoter.code if binding else None,
        expires_at=binding.expires_at if binding else None,
    )


# --- operator console ----------------------------------------------------------------


def _with_unknown_fields(request: HttpRequest, body: OpenBody) -> dict[str, Any]:
    """The declared fields plus any others the client sent, so the action can refuse them by name."""
    try:
        raw = json.loads(request.body or b"{}")
    except ValueError:
        raw = {}
    extra = {k: v for k, v in raw.items() if k not in type(body).model_fields} if isinstance(raw, dict) else {}
    return {**body.data(), **extra}


@router.get("/console/settings", response={200: DistributionSettingsOut, **CONSOLE_ERRORS})
def console_settings(request: HttpRequest) -> DistributionSettingsOut:
    shop = api_console_shop(request, MANAGE_CATALOG)
    return DistributionSettingsOut.from_model(selectors.shop_settings(shop))


@router.put("/console/settings", response={200: DistributionSettingsOut, **CONSOLE_ERRORS})
def update_settings(request: HttpRequest, body: DistributionSettingsIn) -> DistributionSettingsOut:
    """At most two tiers (422 ``tier_limit``); no join fee or purchase (422 ``join_fee_forbidden``);
    no sign-up or team bonus (422 ``recruitment_bonus_forbidden`` / ``team_bonus_forbidden``)."""
    shop = api_console_shop(request, MANAGE_CATALOG)
    found = actions.do_update_settings(request.user, shop, _with_unknown_fields(request, body), ip=client_ip(request))
    return DistributionSettingsOut.from_model(found)


@router.get("/console/figures", response={200: FiguresOut, **CONSOLE_ERRORS})
def console_figures(request: HttpRequest) -> FiguresOut:
    """Top promoters, commission cost vs sales, referral tree depth/breadth, K-factor (referred
    buyers per buyer) and suspicious patterns (one device, many people; many refunded lines)."""
    shop = api_console_shop(request, MANAGE_CATALOG)
    return FiguresOut(**asdict(figures.shop_figures(shop)))


@router.get("/console/rules", response={200: list[RuleOut], **CONSOLE_ERRORS})
def rules(request: HttpRequest) -> list[RuleOut]:
    shop = api_console_shop(request, MANAGE_CATALOG)
    return [RuleOut.from_model(r) for r in selectors.shop_rules(shop)]


@router.post("/console/rules", response={200: RuleOut, **CONSOLE_ERRORS})
def save_rule(request: HttpRequest, body: RuleIn) -> RuleOut:
    """Create or replace the rule of the shop, a category or a product (same refusals as settings)."""
    shop = api_console_shop(request, MANAGE_CATALOG)
    return RuleOut.from_model(
        actions.do_save_rule(request.user, shop, _with_unknown_fields(request, body), ip=client_ip(request))
    )


@router.delete("/console/rules/{int:rule_id}", response={204: None, **CONSOLE_ERRORS})
def delete_rule(request: HttpRequest, rule_id: Id) -> Status[None]:
    shop = api_console_shop(request, MANAGE_CATALOG)
    actions.do_delete_rule(request.user, shop, selectors.access_rule(shop, rule_id), ip=client_ip(request))
    return Status(204, None)


@router.delete("/console/levels/{int:level_id}", response={204: None, **CONSOLE_ERRORS})
def delete_level(request: HttpRequest, level_id: Id) -> Status[None]:
    shop = api_console_shop(request, MANAGE_CATALOG)
    actions.do_delete_level(request.user, shop, selectors.access_level(shop, level_id), ip=client_ip(request))
    return Status(204, None)


@router.get("/console/levels", response={200: list[LevelOut], **CONSOLE_ERRORS})
def levels(request: HttpRequest) -> list[LevelOut]:
    shop = api_console_shop(request, MANAGE_CATALOG)
    return [LevelOut.from_model(level) for level in selectors.shop_levels(shop)]


@router.post("/console/levels", response={200: LevelOut, **CONSOLE_ERRORS})
def save_level(request: HttpRequest, body: LevelIn) -> LevelOut:
    """A level is earned by own completed sales; it adds ``extra_bp`` to tier-1 percentage rates."""
    shop = api_console_shop(request, MANAGE_CATALOG)
    level = actions.do_save_level(
        request.user,
        shop,
        name=body.name,
        min_sales_fen=body.min_sales_fen,
        extra_bp=body.extra_bp,
        ip=client_ip(request),
    )
    return LevelOut.from_model(level)


@router.get("/console/promoters", response={200: Page[ConsolePromoterOut], **CONSOLE_ERRORS})
def promoters(request: HttpRequest, query: Query[PromoterQuery]) -> dict:
    shop = api_console_shop(request, MANAGE_CATALOG)
    page = paginate(selectors.shop_promoters(shop, query.status), query.page, query.page_size)
    page["items"] = [ConsolePromoterOut.from_model(p) for p in page["items"]]
    return page


@router.post(
    "/console/promoters/{int:promoter_id}/approve",
    response={200: ConsolePromoterOut, **CONSOLE_ERRORS, **error_responses(409)},
)
def approve(request: HttpRequest, promoter_id: Id) -> ConsolePromoterOut:
    shop = api_console_shop(request, MANAGE_CATALOG)
    found = selectors.access_promoter(shop, promoter_id)
    return ConsolePromoterOut.from_model(
        actions.do_decide(request.user, shop, found, approve=True, ip=client_ip(request))
    )


@router.post(
    "/console/promoters/{int:promoter_id}/reject",
    response={200: ConsolePromoterOut, **CONSOLE_ERRORS, **error_responses(409)},
)
def reject(request: HttpRequest, promoter_id: Id) -> ConsolePromoterOut:
    shop = api_console_shop(request, MANAGE_CATALOG)
    found = selectors.access_promoter(shop, promoter_id)
    return ConsolePromoterOut.from_model(
        actions.do_decide(request.user, shop, found, approve=False, ip=client_ip(request))
    )
