"""Pages of red packets: the member's packet page (抢红包, my amount, 手气最佳, the grabs with masked
names) and the console (pools with their figures, the fund form, the shop's setting). Thin: parse,
call one action, render."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shequn.core.audit import client_ip
from shequn.core.errors import DomainError
from shequn.orders.selectors import DRIVEN_DAYS
from shequn.shops.console import console_view
from shequn.shops.permissions import MANAGE_SHOP

from . import actions, selectors
from .forms import RedPacketForm, SettingsForm


@require_GET
def packet_page(request: HttpRequest, packet_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    packet = selectors.member_packet(packet_id)
    actions.catch_up(packet, request.user)
    view = selectors.packet_view(packet, request.user)
    ticket = _ticket(request.user, packet.pk) if view.phase == "open" and view.mine is None else None
    return render(request, "redpackets/packet.html", {"view": view, "packet": packet, "ticket": ticket})


def _ticket(user: Any, packet_id: int) -> str | None:
    """None when the member may not grab: the button then posts the form, and the answer says why."""
    try:
        return actions.issue_ticket(user, packet_id).token
    except DomainError:
        return None


@require_POST
def grab_submit(request: HttpRequest, packet_id: int) -> HttpResponse:
    """抢 without a script (the page's script sends the ticketed grab to the API): the gate decides,
    then the page shows the amount once written, or the reason."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    try:
        actions.grab(request.user, packet_id, client_ip=client_ip(request))
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("redpackets:packet", packet_id)


# --- console ---------------------------------------------------------------------------


@console_view(MANAGE_SHOP)
@require_GET
def console_packets(request: HttpRequest) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    packets = list(selectors.shop_packets(shop)[:100])
    driven = selectors.driven(shop, packets)
    context = {
        "rows": [(packet, driven[packet.pk]) for packet in packets],
        "driven_days": DRIVEN_DAYS,
        "settings_form": SettingsForm(initial={"withdrawable": actions.shop_settings(shop).withdrawable}),
    }
    return render(request, "redpackets/console/packets.html", context)


@console_view(MANAGE_SHOP)
@require_http_methods(["GET", "POST"])
def console_fund(request: HttpRequest) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    form = RedPacketForm(request.POST or None, shop=shop)
    if request.method == "POST" and form.is_valid():
        try:
            packet = actions.fund_packet(shop, request.user, form.to_input(), ip=client_ip(request))
        except DomainError as error:
            form.show_error(error)
        else:
            messages.success(request, _("红包「%(title)s」已发放") % {"title": packet.title})
            return redirect("redpackets:console_packets")
    return render(request, "redpackets/console/fund.html", {"form": form}, status=422 if form.errors else 200)


@console_view(MANAGE_SHOP)
@require_POST
def console_settings(request: HttpRequest) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    form = SettingsForm(request.POST)
    if form.is_valid():
        actions.update_settings(
            shop, request.user, withdrawable=form.cleaned_data["withdrawable"], ip=client_ip(request)
        )
        messages.success(request, _("设置已保存，之后发放的红包生效"))
    return redirect("redpackets:console_packets")
