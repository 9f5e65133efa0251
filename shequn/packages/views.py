"""Pages of prepaid packages: a package for sale (buy, or buy as a gift), 我的套餐卡 with
redemption, history and refund, and the console (packages, held packages with counter
redemption, liabilities). Thin: parse, call one action, render."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shequn.core.audit import client_ip
from shequn.core.errors import DomainError
from shequn.core.phone import mask_phone
from shequn.orders.actions import enabled_payment_methods
from shequn.shops.console import console_view
from shequn.shops.permissions import FULFIL_ORDERS, MANAGE_CATALOG, VIEW_ORDERS

from . import actions, selectors
from .enums import Channel, PackageStatus
from .forms import PlanForm, RedeemForm
from .models import MemberPackage, PackagePlan

# --- members -------------------------------------------------------------------------


@require_GET
def plan_detail(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = selectors.access_plan_for_sale(plan_id)
    context = {"plan": plan, "sku_id": selectors.plan_sku_id(plan), "payment_methods": enabled_payment_methods()}
    return render(request, "packages/plan_detail.html", context)


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    packages = list(selectors.my_packages(request.user)[:100])
    return render(request, "packages/mine.html", {"packages": packages, "now": timezone.now()})


def _redeem_form(package: MemberPackage, data: Any = None) -> RedeemForm:
    return RedeemForm(data, owner=package.owner, shop=package.shop, shipping_included=package.shipping_included)


def _redeem(request: HttpRequest, package: MemberPackage, channel: str) -> tuple[RedeemForm, bool]:
    """The redemption form posted by the owner or the counter: redeemed, or the form with its error."""
    form = _redeem_form(package, request.POST)
    if form.is_valid():
        try:
            order = actions.redeem(request.user, package, channel=channel, **form.redemption())
            messages.success(
                request,
                _("已兑换 %(portions)s 份，订单 %(number)s")
                % {"portions": form.cleaned_data["portions"], "number": order.number},
            )
            return form, True
        except DomainError as error:
            form.add_error(None, error.message)
    return form, False


@login_required
@require_http_methods(["GET", "POST"])
def mine_detail(request: HttpRequest, package_id: int) -> HttpResponse:
    package = selectors.access_my_package(request.user, package_id)
    form = _redeem_form(package)
    if request.method == "POST":
        form, done = _redeem(request, package, Channel.MEMBER)
        if done:
            return redirect("packages:mine_detail", package.pk)
    context = {
        "package": package,
        "form": form,
        "entries": selectors.history(package)[:200],
        "redeemable": package.status == PackageStatus.ACTIVE and package.expires_at > timezone.now(),
    }
    return render(request, "packages/mine_detail.html", context, status=422 if form.errors else 200)


@login_required
@require_POST
def refund(request: HttpRequest, package_id: int) -> HttpResponse:
    package = selectors.access_my_package(request.user, package_id)
    try:
        actions.do_refund_unused(request.user, package)
        messages.success(request, _("已申请退款，退回原支付方式"))
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("packages:mine_detail", package.pk)


@login_required
@require_POST
def send_as_gift(request: HttpRequest, package_id: int) -> HttpResponse:
    package = selectors.access_my_package(request.user, package_id)
    try:
        actions.do_send_as_gift(request.user, package, message=request.POST.get("message", ""))
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("packages:mine_detail", package.pk)
    messages.success(request, _("已生成领取链接，发给好友即可"))
    return redirect("gifts:mine")


# --- console ---------------------------------------------------------------------------


@console_view(MANAGE_CATALOG)
@require_GET
def console_plans(request: HttpRequest) -> HttpResponse:
    plans = list(selectors.shop_plans(request.console_shop)[:100])  # type: ignore[attr-defined]
    return render(request, "packages/console/plans.html", {"plans": plans})


def _console_form(request: HttpRequest, plan: PackagePlan | None) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    form = PlanForm(request.POST or None, shop=shop, plan=plan)
    if request.method == "POST" and form.is_valid():
        try:
            actions.do_save_plan(shop, form.to_input(), actor=request.user, plan=plan, ip=client_ip(request))
            messages.success(request, _("套餐已保存"))
            return redirect("packages:console_plans")
        except DomainError as error:
            field = (error.details or {}).get("field")
            form.add_error(None if field not in form.fields else field, error.message)
    return render(
        request, "packages/console/form.html", {"form": form, "plan": plan}, status=422 if form.errors else 200
    )


@console_view(MANAGE_CATALOG)
@require_http_methods(["GET", "POST"])
def console_create(request: HttpRequest) -> HttpResponse:
    return _console_form(request, None)


@console_view(MANAGE_CATALOG)
@require_http_methods(["GET", "POST"])
def console_edit(request: HttpRequest, plan_id: int) -> HttpResponse:
    return _console_form(request, selectors.access_plan(request.console_shop, plan_id))  # type: ignore[attr-defined]


@console_view(VIEW_ORDERS)
@require_GET
def console_held(request: HttpRequest) -> HttpResponse:
    """Members' packages, newest first; at the counter, found by the member's phone (its last digits)."""
    phone = "".join(ch for ch in request.GET.get("phone", "") if ch.isdigit())[:11]
    packages = selectors.shop_packages(request.console_shop)  # type: ignore[attr-defined]
    if phone:
        packages = packages.filter(owner__phone__endswith=phone)
    rows = [{"package": p, "phone": mask_phone(p.owner.phone or "")} for p in packages[:200]]
    return render(request, "packages/console/held.html", {"rows": rows, "phone": phone})


@console_view(FULFIL_ORDERS)
@require_http_methods(["GET", "POST"])
def console_package(request: HttpRequest, package_id: int) -> HttpResponse:
    """One member's package at the counter: balance, history, and redeeming for them."""
    package = selectors.access_shop_package(request.console_shop, package_id)  # type: ignore[attr-defined]
    form = _redeem_form(package)
    if request.method == "POST":
        form, done = _redeem(request, package, Channel.COUNTER)
        if done:
            return redirect("packages:console_package", package.pk)
    context = {
        "package": package,
        "phone": mask_phone(package.owner.phone or ""),
        "form": form,
        "entries": selectors.history(package)[:200],
    }
    return render(request, "packages/console/package.html", context, status=422 if form.errors else 200)


@console_view(VIEW_ORDERS)
@require_GET
def console_liabilities(request: HttpRequest) -> HttpResponse:
    rows, total = selectors.liabilities(request.console_shop)  # type: ignore[attr-defined]
    return render(request, "packages/console/liabilities.html", {"rows": rows, "total": total})
