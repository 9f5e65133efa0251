"""Member pages of team buys (offer, team with share link and QR, my teams) and console pages
(offers CRUD, teams with status). Thin: parse, call one action, render."""

import io
from datetime import datetime
from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shequn.accounts.models import Address
from shequn.catalog.models import Sku
from shequn.core.audit import client_ip
from shequn.core.errors import DomainError
from shequn.core.money import format_yuan_input, parse_yuan
from shequn.core.pages import field_errors, int_or_none
from shequn.shops.console import console_view
from shequn.shops.models import PickupPoint
from shequn.shops.permissions import MANAGE_CATALOG

from . import actions, selectors
from .enums import TeamStatus
from .errors import InvalidOffer
from .models import Team, TeamOffer

PAGE_SIZE = 20


def _destination_choices(request: HttpRequest, shop: Any) -> dict[str, Any]:
    return {
        "pickup_points": list(PickupPoint.objects.filter(shop=shop, is_active=True).order_by("pk")),
        "addresses": list(Address.objects.filter(user=request.user).order_by("pk"))
        if request.user.is_authenticated
        else [],
    }


def _destination(request: HttpRequest) -> actions.Destination:
    """``where`` is ``pickup:<point id>`` or ``delivery:<address id>``, as chosen on the page."""
    kind, _, value = (request.POST.get("where") or "").partition(":")
    if kind == "delivery":
        return actions.Destination(fulfilment="delivery", address_id=int_or_none(value))
    return actions.Destination(fulfilment="pickup", pickup_point_id=int_or_none(value))


def _pay(member: Any) -> HttpResponse:
    # The order page carries the pay button (the cashier starts on a POST).
    return redirect("orders:order_detail", number=member.order.number)


# --- members -------------------------------------------------------------------------------


@require_GET
def offer_page(request: HttpRequest, offer_id: int) -> HttpResponse:
    offer = selectors.public_offer(offer_id)
    return render(
        request,
        "teambuy/offer.html",
        {
            "offer": offer,
            "sku": offer.sku,
            "teams": selectors.joinable_teams(offer),
            **_destination_choices(request, offer.shop),
        },
    )


@require_POST
def open_team(request: HttpRequest, offer_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("teambuy:offer", args=[offer_id]))
    try:
        member = actions.do_open_team(request.user, offer_id, _destination(request))
    except DomainError as error:
        if error.status == 404:
            raise
        messages.error(request, error.message)
        return redirect("teambuy:offer", offer_id=offer_id)
    return _pay(member)


def _team_context(request: HttpRequest, team: Team) -> dict[str, Any]:
    share_url = request.build_absolute_uri(reverse("teambuy:team", args=[team.pk]))
    return {
        "team": team,
        "offer": team.offer,
        "members": selectors.masked_members(team),
        "mine": selectors.membership(request.user, team),
        "seconds_left": selectors.seconds_left(team),
        "share_url": share_url,
        "can_join": team.status == TeamStatus.FORMING and team.seats_left > 0 and team.expires_at > timezone.now(),
        **_destination_choices(request, team.shop),
    }


@require_GET
def team_page(request: HttpRequest, team_id: int) -> HttpResponse:
    team = selectors.public_team(team_id)
    return render(request, "teambuy/team.html", _team_context(request, team))


@require_GET
def team_status(request: HttpRequest, team_id: int) -> HttpResponse:
    """The members block, polled by htmx while the team forms."""
    team = selectors.public_team(team_id)
    return render(request, "teambuy/_team_status.html", _team_context(request, team))


@require_POST
def join_team(request: HttpRequest, team_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("teambuy:team", args=[team_id]))
    try:
        member = actions.do_join_team(request.user, team_id, _destination(request))
    except DomainError as error:
        if error.status == 404:
            raise
        messages.error(request, error.message)
        return redirect("teambuy:team", team_id=team_id)
    return _pay(member)


@require_GET
def team_qr(request: HttpRequest, team_id: int) -> HttpResponse:
    team = selectors.public_team(team_id)
    buffer = io.BytesIO()
    url = request.build_absolute_uri(reverse("teambuy:team", args=[team.pk]))
    segno.make(url, error="m").save(buffer, kind="svg", scale=5, border=2, xmldecl=True, title=_("拼团二维码"))
    return HttpResponse(buffer.getvalue(), content_type="image/svg+xml")


@require_GET
def my_teams(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    page = Paginator(selectors.my_teams(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "teambuy/my_teams.html", {"page_obj": page})


# --- console -------------------------------------------------------------------------------


def _parse_when(value: str, field: str) -> datetime | None:
    """A datetime-local value; blank is None; anything unreadable is a field error."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:  # well-formed but impossible, e.g. month 13
        parsed = None
    if parsed is None:
        raise InvalidOffer(_("时间格式不正确"), details={"fields": {field: _("时间格式不正确")}})
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def _offer_input(request: HttpRequest) -> actions.OfferInput:
    post = request.POST
    return actions.OfferInput(
        sku_id=int_or_none(post.get("sku")),
        title=post.get("title") or "",
        team_size=int_or_none(post.get("team_size")),
        team_price_fen=parse_yuan(post.get("team_price"), required=False, field="team_price_fen"),
        time_limit_hours=int_or_none(post.get("time_limit_hours")),
        starts_at=_parse_when(post.get("starts_at") or "", "starts_at"),
        ends_at=_parse_when(post.get("ends_at") or "", "ends_at"),
        is_active=post.get("is_active") == "1",
    )


def _skus(shop: Any) -> list[Sku]:
    return list(
        Sku.objects.filter(shop=shop, is_active=True, product__shop=shop, product__kind="goods")
        .select_related("product")
        .order_by("product__title", "position", "pk")
    )


@console_view(MANAGE_CATALOG)
@require_GET
def console_offers(request: HttpRequest) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    page = Paginator(selectors.shop_offers(shop), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "teambuy/console/offers.html", {"page_obj": page})


def _offer_form(request: HttpRequest, offer: TeamOffer | None) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    values: dict[str, Any] = {
        "sku": str(offer.sku_id) if offer else "",
        "title": offer.title if offer else "",
        "team_size": offer.team_size if offer else 3,
        "team_price": format_yuan_input(offer.team_price_fen) if offer else "",
        "time_limit_hours": offer.time_limit_hours if offer else 24,
        "starts_at": timezone.localtime(offer.starts_at).strftime("%Y-%m-%dT%H:%M") if offer else "",
        "ends_at": timezone.localtime(offer.ends_at).strftime("%Y-%m-%dT%H:%M") if offer and offer.ends_at else "",
        "is_active": offer.is_active if offer else True,
    }
    errors: dict[str, str] = {}
    error_message = ""
    status = 200
    if request.method == "POST":
        values = {key: request.POST.get(key, "") for key in values}
        values["is_active"] = request.POST.get("is_active") == "1"
        try:
            data = _offer_input(request)
            if offer is None:
                offer = actions.do_create_offer(shop, data, actor=request.user, ip=client_ip(request))
                messages.success(request, _("拼团活动已创建"))
            else:
                actions.do_update_offer(shop, offer, data, actor=request.user, ip=client_ip(request))
                messages.success(request, _("拼团活动已保存"))
            return redirect("teambuy:console_offers")
        except DomainError as error:
            errors, error_message, status = field_errors(error), error.message, error.status
    return render(
        request,
        "teambuy/console/offer_form.html",
        {"offer": offer, "skus": _skus(shop), "values": values, "errors": errors, "error_message": error_message},
        status=status,
    )


@console_view(MANAGE_CATALOG)
@require_http_methods(["GET", "POST"])
def console_offer_new(request: HttpRequest) -> HttpResponse:
    return _offer_form(request, None)


@console_view(MANAGE_CATALOG)
@require_http_methods(["GET", "POST"])
def console_offer_edit(request: HttpRequest, offer_id: int) -> HttpResponse:
    offer = selectors.access_offer(request.console_shop, offer_id)  # type: ignore[attr-defined]
    return _offer_form(request, offer)


@console_view(MANAGE_CATALOG)
@require_GET
def console_teams(request: HttpRequest) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    status = request.GET.get("status") or ""
    offer_id = int_or_none(request.GET.get("offer"))
    teams = selectors.shop_teams(shop, status=status, offer_id=offer_id)
    page = Paginator(teams, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "teambuy/console/teams.html",
        {"page_obj": page, "status": status, "statuses": TeamStatus.choices, "offer_id": offer_id or ""},
    )
