"""Pages of flash sales: the member's H5 sale page (countdown, 预约, 立即抢购, 排队中 → the order,
polled with htmx) and the console (list, form, schedule/pause/resume/end, live counters refreshed
with htmx). Thin: parse, call one action, render."""

from dataclasses import replace
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shequn.core.audit import client_ip
from shequn.core.errors import DomainError
from shequn.core.pages import queue_polls
from shequn.shops.console import console_view
from shequn.shops.permissions import MANAGE_CATALOG

from . import actions, selectors
from .forms import FlashSaleForm
from .models import FlashSale

MOVES = {
    "schedule": (actions.schedule_sale, gettext_lazy("秒杀已发布，预约已开放")),
    "pause": (actions.pause_sale, gettext_lazy("秒杀已暂停")),
    "resume": (actions.resume_sale, gettext_lazy("秒杀已恢复")),
    "end": (actions.end_sale, gettext_lazy("秒杀已结束")),
}


def _login(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return None


# --- members -------------------------------------------------------------------------


@require_GET
def open_sales(request: HttpRequest) -> HttpResponse:
    """Sales members can reserve or buy now (the API's list, as a page)."""
    sales = selectors.open_sales().prefetch_related("sessions")[:50]
    return render(request, "flashsales/open_sales.html", {"sales": sales})


@require_GET
def sale_page(request: HttpRequest, sale_id: int) -> HttpResponse:
    if (login := _login(request)) is not None:
        return login
    view = selectors.member_view(selectors.member_sale(sale_id), request.user)
    if view.phase == "open":  # the buy buttons send a gate ticket (the thin front decides without SQL)
        view = replace(view, items=[replace(row, ticket=_ticket(request.user, row.item.pk)) for row in view.items])
    return render(request, "flashsales/sale.html", {"view": view, "sale": view.sale})


def _ticket(user: Any, item_id: int) -> str | None:
    """None when the member may not try (e.g. not in the sale's community): the button then posts
    the form, and the answer says why."""
    try:
        return actions.issue_ticket(user, item_id).token
    except DomainError:
        return None


@require_POST
def reserve_submit(request: HttpRequest, sale_id: int) -> HttpResponse:
    if (login := _login(request)) is not None:
        return login
    try:
        _reservation, created = actions.reserve(request.user, sale_id)
        messages.success(request, _("预约成功，开抢时会提醒你") if created else _("你已预约"))
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("flashsales:sale", sale_id)


@require_POST
def buy_submit(request: HttpRequest, item_id: int) -> HttpResponse:
    """立即抢购 without a gate ticket (the page's script sends ticketed attempts to the API): admitted →
    排队中 (the fragment polls the claim); refused → the reason."""
    if (login := _login(request)) is not None:
        return login
    try:
        admission = actions.attempt(request.user, item_id)
    except DomainError as error:
        if not request.htmx:  # type: ignore[attr-defined]
            messages.error(request, error.message)
            return _back_to_sale(item_id)
        return render(request, "flashsales/_refused.html", {"message": error.message, "code": error.code})
    if not request.htmx:  # type: ignore[attr-defined]
        return redirect("flashsales:claim", admission.claim_id)
    return render(request, "flashsales/_claim.html", {"claim": None, "claim_id": admission.claim_id})


def _back_to_sale(item_id: int) -> HttpResponse:
    from .models import FlashItem

    sale_id = FlashItem.objects.filter(pk=item_id).values_list("session__sale_id", flat=True).first()
    if sale_id is None:
        raise Http404
    return redirect("flashsales:sale", sale_id)


@require_GET
def claim_status(request: HttpRequest, claim_id: str) -> HttpResponse:
    """The claim's state: 排队中 (keeps polling), the order (pay), or released (the reason)."""
    if (login := _login(request)) is not None:
        return login
    claim = actions.claim_status(request.user, claim_id[:64])
    template = "flashsales/_claim.html" if request.htmx else "flashsales/claim.html"  # type: ignore[attr-defined]
    polls, gave_up = queue_polls(request)
    context = {"claim": claim, "claim_id": claim_id[:64], "next_poll": polls + 1, "gave_up": gave_up}
    return render(request, template, context)


# --- console ---------------------------------------------------------------------------


@console_view(MANAGE_CATALOG)
@require_GET
def console_sales(request: HttpRequest) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    sales = selectors.shop_sales(shop).prefetch_related("sessions")[:100]
    return render(request, "flashsales/console/sales.html", {"sales": sales})


def _console_form(request: HttpRequest, sale: FlashSale | None) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    if request.method == "POST":
        form = FlashSaleForm(request.POST, shop=shop, sale=sale)
        if form.is_valid():
            try:
                if sale is None:
                    sale = actions.create_sale(shop, request.user, form.to_input(), ip=client_ip(request))
                else:
                    actions.update_sale(shop, request.user, sale.pk, form.to_input(), ip=client_ip(request))
                messages.success(request, _("秒杀已保存（草稿），发布后开放预约"))
                return redirect("flashsales:console_sale", sale.pk)
            except DomainError as error:
                form.show_error(error.message, (error.details or {}).get("field"))
    else:
        form = FlashSaleForm(shop=shop, sale=sale)
    return render(request, "flashsales/console/form.html", {"form": form, "sale": sale}, status=200)


@console_view(MANAGE_CATALOG)
@require_http_methods(["GET", "POST"])
def console_create(request: HttpRequest) -> HttpResponse:
    return _console_form(request, None)


@console_view(MANAGE_CATALOG)
@require_http_methods(["GET", "POST"])
def console_edit(request: HttpRequest, sale_id: int) -> HttpResponse:
    sale = selectors.access_sale(request.console_shop, sale_id)  # type: ignore[attr-defined]
    return _console_form(request, sale)


@console_view(MANAGE_CATALOG)
@require_GET
def console_sale(request: HttpRequest, sale_id: int) -> HttpResponse:
    sale = selectors.access_sale(request.console_shop, sale_id)  # type: ignore[attr-defined]
    context = {"sale": sale, "sessions": sale.sessions.all(), "counters": selectors.sale_counters(sale)}
    return render(request, "flashsales/console/sale.html", context)


@console_view(MANAGE_CATALOG)
@require_GET
def console_counters(request: HttpRequest, sale_id: int) -> HttpResponse:
    """The live counters' fragment, refreshed by htmx every few seconds."""
    sale = selectors.access_sale(request.console_shop, sale_id)  # type: ignore[attr-defined]
    return render(
        request, "flashsales/console/_counters.html", {"sale": sale, "counters": selectors.sale_counters(sale)}
    )


@console_view(MANAGE_CATALOG)
@require_POST
def console_move(request: HttpRequest, sale_id: int, move: str) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    sale = selectors.access_sale(shop, sale_id)
    if move not in MOVES:
        raise Http404
    action, done = MOVES[move]
    try:
        action(shop, request.user, sale.pk, ip=client_ip(request))
        messages.success(request, done)
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("flashsales:console_sale", sale.pk)
