"""Stored value API under /api/v1/stored-value: members (balances, plans, history, asking the
principal back) and operators (/console/...: plans, member balances, the liabilities report)."""

from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Status

from shequn.core.audit import client_ip
from shequn.core.schemas import Id, Page, PageQuery, error_responses, paginate
from shequn.shops.console import api_console_shop
from shequn.shops.models import Shop
from shequn.shops.permissions import CONFIRM_COD, MANAGE_CATALOG

from . import actions, selectors
from .schemas import (
    PrincipalRefundOut,
    StoredValueBalancesOut,
    StoredValueLiabilitiesOut,
    StoredValueMemberOut,
    StoredValueMovementOut,
    StoredValueShopQuery,
    TopUpPlanActiveIn,
    TopUpPlanIn,
    TopUpPlanOut,
)

router = Router(tags=["stored value"])
console = Router(tags=["stored value console"])

READ_ERRORS = error_responses(401, 422)
WRITE_ERRORS = error_responses(401, 403, 404, 409, 422)


def _balances_out(shop_id: int, balances: selectors.Balances) -> dict[str, Any]:
    return {
        "shop_id": shop_id,
        "principal_fen": balances.principal_fen,
        "bonus_fen": balances.bonus_fen,
        "spendable_fen": balances.spendable_fen,
        "refunding_fen": balances.refunding_fen,
        "usable_fen": balances.usable_fen,
    }


@router.get("/balances", response={200: list[StoredValueBalancesOut], **READ_ERRORS})
def my_balances(request: HttpRequest) -> list[dict[str, Any]]:
    """The member's balances in each shop where they hold stored value or may top up."""
    return [
        _balances_out(shop.pk, selectors.member_balances(shop, request.user))
        for shop in selectors.member_shops(request.user)[:50]
    ]


@router.get("/plans", response={200: list[TopUpPlanOut], **READ_ERRORS}, auth=None)
def plans(request: HttpRequest, shop_id: Id) -> list[TopUpPlanOut]:
    """A shop's top-up plans on sale (充 ¥1,000 送 ¥100); buy one as an order of its ``sku_id``."""
    return [TopUpPlanOut.from_model(plan) for plan in selectors.active_plans(shop_id)]


@router.get("/history", response={200: Page[StoredValueMovementOut], **READ_ERRORS})
def history(request: HttpRequest, query: Query[StoredValueShopQuery]) -> dict[str, Any]:
    """The member's stored-value movements in one shop, newest first."""
    page = paginate(selectors.member_history(query.shop_id, request.user), query.page, query.page_size)
    page["items"] = [
        {
            "at": e.transaction.created_at,
            "account": e.account.kind,
            "amount_fen": e.amount_fen,
            "memo": e.transaction.memo,
        }
        for e in page["items"]
    ]
    return page


@router.post("/shops/{int:shop_id}/principal-refund", response={200: PrincipalRefundOut, **WRITE_ERRORS})
def principal_refund(request: HttpRequest, shop_id: Id) -> dict[str, int]:
    """Ask for all unused principal back through the top-ups' payments; the unused bonus is
    forfeited. 409 ``no_principal_to_refund``."""
    shop = get_object_or_404(Shop, pk=shop_id)
    return {"asked_fen": actions.do_request_principal_refund(request.user, shop)}


# --- console ---------------------------------------------------------------------------


@console.get("/plans", response={200: list[TopUpPlanOut], **WRITE_ERRORS})
def console_plans(request: HttpRequest) -> list[TopUpPlanOut]:
    shop = api_console_shop(request, MANAGE_CATALOG)
    return [TopUpPlanOut.from_model(plan) for plan in selectors.shop_plans(shop).prefetch_related("product__skus")]


@console.post("/plans", response={201: TopUpPlanOut, **WRITE_ERRORS})
def console_create_plan(request: HttpRequest, body: TopUpPlanIn) -> Status[Any]:
    """A new plan, on sale at once (plans are never edited). 422 ``top_up_plan_invalid``."""
    shop = api_console_shop(request, MANAGE_CATALOG)
    plan = actions.do_create_plan(
        shop,
        request.user,
        actions.PlanInput(principal_fen=body.principal_fen, bonus_fen=body.bonus_fen),
        ip=client_ip(request),
    )
    return Status(201, TopUpPlanOut.from_model(plan))


@console.post("/plans/{int:plan_id}/active", response={200: TopUpPlanOut, **WRITE_ERRORS})
def console_plan_active(request: HttpRequest, plan_id: Id, body: TopUpPlanActiveIn) -> TopUpPlanOut:
    """Stop selling a plan, or sell it again. 404 ``top_up_plan_not_found``."""
    shop = api_console_shop(request, MANAGE_CATALOG)
    return TopUpPlanOut.from_model(
        actions.do_set_plan_active(shop, request.user, plan_id, body.active, ip=client_ip(request))
    )


@console.get("/balances", response={200: Page[StoredValueMemberOut], **WRITE_ERRORS})
def console_balances(request: HttpRequest, query: Query[PageQuery]) -> dict[str, Any]:
    """Members holding stored value, largest first."""
    shop = api_console_shop(request, CONFIRM_COD)
    page = paginate(selectors.member_balance_rows(shop), query.page, query.page_size)
    page["items"] = [
        {
            "member_id": row["holder_id"],
            "principal_fen": row["principal_fen"] or 0,
            "bonus_fen": row["bonus_fen"] or 0,
            "spendable_fen": row["spendable_fen"] or 0,
            "refunding_fen": row["refunding_fen"] or 0,
            "owed_fen": row["owed_fen"],
        }
        for row in page["items"]
    ]
    return page


@console.get("/liabilities", response={200: StoredValueLiabilitiesOut, **WRITE_ERRORS})
def console_liabilities(request: HttpRequest) -> dict[str, int]:
    """Outstanding stored value (what members' accounts hold), equal to the ledger's entries."""
    found = selectors.liabilities(api_console_shop(request, CONFIRM_COD))
    return {
        "principal_fen": found.principal_fen,
        "bonus_fen": found.bonus_fen,
        "spendable_fen": found.spendable_fen,
        "refunding_fen": found.refunding_fen,
        "owed_fen": found.owed_fen,
    }


router.add_router("/console", console)
