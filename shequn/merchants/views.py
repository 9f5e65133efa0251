"""Pages of onboarding (a member applies to open a shop, /open-shop/) and of the platform console
(/platform/: shops, applications, audit search; platform staff only). Thin: form → action →
redirect, or the page again with the form's errors."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shequn.core.audit import client_ip
from shequn.core.errors import Conflict, DomainError, InvalidInput, InvalidTransition
from shequn.shops.forms import add_domain_error

from . import actions, selectors
from .enums import ApplicationStatus
from .forms import ApplicationFilterForm, ApplicationForm, AuditSearchForm, ReasonForm, ShopFilterForm

PAGE_SIZE = 20
AUDIT_PAGE_SIZE = 50


def _page(request: HttpRequest, rows: Any, size: int = PAGE_SIZE) -> Any:
    return Paginator(rows, size).get_page(request.GET.get("page"))


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# --- onboarding (members) -------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def open_shop(request: HttpRequest) -> HttpResponse:
    """Apply to open a shop, and see how the applications went."""
    mine = list(selectors.my_applications(request.user)[:10])
    status = 200
    form = ApplicationForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if form.is_valid():
            data = {name: form.cleaned_data[name] for name in ("name", "slug", "category", "business_subject")}
            try:
                actions.do_apply(
                    request.user,
                    actions.ApplicationInput(**data, licence_number=form.cleaned_data["licence_number"]),
                    logo=form.cleaned_data["logo"],
                )
            except DomainError as error:
                add_domain_error(form, error)
                status = error.status
            else:
                messages.success(request, _("开店申请已提交，平台审核后会在消息中通知你"))
                return redirect("merchants:open_shop")
        else:
            status = 422
    context = {
        "form": form,
        "applications": mine,
        "waiting": any(application.status == ApplicationStatus.PENDING for application in mine),
    }
    return render(request, "merchants/open_shop.html", context, status=status)


# --- platform console -----------------------------------------------------------------------------


def platform_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Platform staff only: signed-out callers go to the sign-in page, anyone else (a member, a
    shop's staff) gets a 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), login_url="/console/login/")
        selectors.check_platform_staff(request.user)
        request.platform_pending = selectors.pending_count()  # type: ignore[attr-defined]  # the menu's badge
        return view(request, *args, **kwargs)

    return wrapper


@platform_view
@require_GET
def platform_shops(request: HttpRequest) -> HttpResponse:
    form = ShopFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    rows = selectors.platform_shops(status=filters.get("status", ""), query=filters.get("q", ""))
    context = {"form": form, "page": _page(request, rows), "query": _query_without_page(request)}
    return render(request, "merchants/platform/shops.html", context)


@platform_view
@require_GET
def platform_shop(request: HttpRequest, shop_id: int) -> HttpResponse:
    shop = selectors.access_platform_shop(shop_id)
    context = {
        "shop": shop,
        "moves": actions.allowed_moves(shop),
        "form": ReasonForm(),
        "entries": selectors.audit_search(selectors.AuditFilters(shop_id=shop.pk, action="shop."))[:20],
    }
    return render(request, "merchants/platform/shop.html", context)


@platform_view
@require_POST
def platform_shop_status(request: HttpRequest, shop_id: int, move: str) -> HttpResponse:
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写原因（最多 200 字）"))
        return redirect("merchants:platform_shop", shop_id=shop_id)
    try:
        shop = actions.do_change_shop_status(
            request.user, shop_id, move, reason=form.cleaned_data["reason"], ip=client_ip(request)
        )
    except (InvalidInput, InvalidTransition) as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("「%(name)s」现在%(value)s") % {"name": shop.name, "value": shop.get_status_display()}
        )
    return redirect("merchants:platform_shop", shop_id=shop_id)


@platform_view
@require_GET
def platform_applications(request: HttpRequest) -> HttpResponse:
    form = ApplicationFilterForm(request.GET)
    status = form.cleaned_data["status"] if form.is_valid() else ""
    context = {
        "form": form,
        "page": _page(request, selectors.applications(status=status)),
        "query": _query_without_page(request),
    }
    return render(request, "merchants/platform/applications.html", context)


@platform_view
@require_POST
def platform_application_approve(request: HttpRequest, application_id: int) -> HttpResponse:
    try:
        application = actions.do_approve(request.user, application_id, ip=client_ip(request))
    except (Conflict, InvalidTransition) as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("已通过「%(name)s」，店铺已开通") % {"name": application.name})
    return redirect("merchants:platform_applications")


@platform_view
@require_POST
def platform_application_reject(request: HttpRequest, application_id: int) -> HttpResponse:
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("驳回须填写原因（最多 200 字）"))
        return redirect("merchants:platform_applications")
    try:
        application = actions.do_reject(
            request.user, application_id, reason=form.cleaned_data["reason"], ip=client_ip(request)
        )
    except (InvalidInput, InvalidTransition) as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("已驳回「%(name)s」，申请人会在消息中看到原因") % {"name": application.name})
    return redirect("merchants:platform_applications")


@platform_view
@require_GET
def platform_audit(request: HttpRequest) -> HttpResponse:
    form = AuditSearchForm(request.GET)
    filters = selectors.AuditFilters()
    if form.is_valid():
        data = form.cleaned_data
        filters = selectors.AuditFilters(
            shop_id=data["shop"], actor=data["actor"].strip(), action=data["action"].strip(),
            since=data["since"], until=data["until"],
        )  # fmt: skip
    context = {
        "form": form,
        "page": _page(request, selectors.audit_search(filters), AUDIT_PAGE_SIZE),
        "query": _query_without_page(request),
    }
    return render(request, "merchants/platform/audit.html", context)
