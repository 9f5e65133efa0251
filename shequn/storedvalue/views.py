"""Pages of stored value: the member's balance (plans to top up by, history, asking the principal
back) and the console (plans; member balances with the liabilities report). Thin: parse, call one
action, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shequn.core.audit import client_ip
from shequn.core.errors import DomainError
from shequn.core.money import format_fen
from shequn.core.phone import mask_phone
from shequn.shops.console import console_view
from shequn.shops.forms import add_domain_error
from shequn.shops.models import Shop
from shequn.shops.permissions import CONFIRM_COD, MANAGE_CATALOG

from . import actions, selectors
from .forms import PlanForm

HISTORY_ROWS = 30
PAGE_SIZE = 50


@login_required
@require_GET
def balance(request: HttpRequest) -> HttpResponse:
    """我的余额: per shop, the balances apart (principal, bonus, red packets, refunding), the plans
    to top up by, and the latest movements."""
    shops = selectors.member_shops(request.user)
    if request.GET.get("shop", "").isdigit():
        shops = shops.filter(pk=int(request.GET["shop"]))
    rows = [
        {
            "shop": shop,
            "balances": selectors.member_balances(shop, request.user),
            "plans": list(selectors.active_plans(shop)),
            "history": list(selectors.member_history(shop, request.user)[:HISTORY_ROWS]),
        }
        for shop in shops[:20]
    ]
    return render(request, "storedvalue/balance.html", {"rows": rows})


@login_required
@require_POST
def principal_refund(request: HttpRequest, shop_id: int) -> HttpResponse:
    shop = get_object_or_404(Shop, pk=shop_id)
    try:
        asked = actions.do_request_principal_refund(request.user, shop)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("已申请退还本金 %(amount)s，将原路退回") % {"amount": format_fen(asked)})
    return redirect("storedvalue:balance")


@console_view(MANAGE_CATALOG)
@require_http_methods(["GET", "POST"])
def console_plans(request: HttpRequest) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    form = PlanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.do_create_plan(shop, request.user, form.to_input(), ip=client_ip(request))
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("充值方案已上架"))
            return redirect("storedvalue:console_plans")
    plans = list(selectors.shop_plans(shop))
    return render(
        request, "storedvalue/console/plans.html", {"form": form, "plans": plans}, status=422 if form.errors else 200
    )


@console_view(MANAGE_CATALOG)
@require_POST
def console_plan_active(request: HttpRequest, plan_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    active = request.POST.get("active") == "1"
    actions.do_set_plan_active(shop, request.user, plan_id, active, ip=client_ip(request))
    messages.success(request, _("充值方案已上架") if active else _("充值方案已停售"))
    return redirect("storedvalue:console_plans")


@console_view(CONFIRM_COD)
@require_GET
def console_balances(request: HttpRequest) -> HttpResponse:
    """Member balances and the stored-value part of the liabilities report (equal to the ledger)."""
    shop = request.console_shop  # type: ignore[attr-defined]
    page = Paginator(selectors.member_balance_rows(shop), PAGE_SIZE).get_page(request.GET.get("page"))
    for row in page:
        row["phone"] = mask_phone(row["holder__phone"] or "")
    return render(
        request, "storedvalue/console/balances.html", {"page": page, "liabilities": selectors.liabilities(shop)}
    )
