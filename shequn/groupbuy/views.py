"""Pages of group buying: the member's campaign page (countdown, items, live list, sign-up),
my group-buys, the leader's mobile console and the operator console. Thin: parse, call one
action, render."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shequn.catalog.models import Sku
from shequn.communities.cards import PostCard
from shequn.core.audit import client_ip
from shequn.core.errors import DomainError
from shequn.core.pages import int_or_none, queue_polls
from shequn.shops.console import console_view
from shequn.shops.permissions import MANAGE_CATALOG

from . import actions, forms, selectors
from .enums import CampaignStatus, SignUpStatus
from .models import Campaign, SignUp

OPEN_PAGE_SIZE = 20


def _login(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return None


def _items_view(campaign: Campaign) -> list[dict[str, Any]]:
    rows = []
    for item in campaign.items.all():
        rows.append(
            {
                "item": item,
                "sku": item.sku,
                "shelf_price_fen": item.sku.price_fen,  # the real shelf price, the only reference shown
                "price_fen": actions._current_price(item),
                "left": selectors.units_left(item, campaign.status),
                "tiers": list(item.tiers.all()),
            }
        )
    return rows


# --- members -------------------------------------------------------------------------


@require_GET
def campaign_page(request: HttpRequest, campaign_id: int) -> HttpResponse:
    if (login := _login(request)) is not None:
        return login
    campaign = selectors.access_member_campaign(request.user, campaign_id)
    leaders = selectors.member_leaders(request.user, campaign)
    chosen = selectors.default_leader(request.user, leaders)
    mine = list(selectors.my_sign_ups(request.user).filter(campaign=campaign))
    is_open = campaign.status == CampaignStatus.OPEN and campaign.starts_at <= timezone.now() < campaign.deadline
    return render(
        request,
        "groupbuy/campaign.html",
        {
            "campaign": campaign,
            "state_label": selectors.campaign_state_label(campaign),
            "items": _items_view(campaign),
            "single_item": len(campaign.items.all()) == 1,
            "leaders": leaders,
            "chosen_leader": chosen,
            "entries": selectors.live_list(campaign),
            "mine": mine,
            # Only a live sign-up of an open campaign can still be changed or cancelled.
            "can_change": is_open and any(entry.status in selectors.LIVE_STATUSES for entry in mine),
            "is_open": is_open,
            # The sign-up button sends a gate ticket (the thin front decides without SQL).
            "ticket": _ticket(request.user, campaign.pk) if is_open else None,
            "paid_units": selectors.paid_units(campaign),
        },
    )


def _ticket(user: Any, campaign_id: int) -> str | None:
    """None when the member may not sign up: the button then posts the form, and the answer says why."""
    try:
        return actions.issue_ticket(user, campaign_id).token
    except DomainError:
        return None


@require_GET
def live_list_fragment(request: HttpRequest, campaign_id: int) -> HttpResponse:
    if (login := _login(request)) is not None:
        return login
    campaign = selectors.access_member_campaign(request.user, campaign_id)
    return render(
        request,
        "groupbuy/_live_list.html",
        {"campaign": campaign, "entries": selectors.live_list(campaign), "paid_units": selectors.paid_units(campaign)},
    )


@require_POST
def sign_up_submit(request: HttpRequest, campaign_id: int) -> HttpResponse:
    if (login := _login(request)) is not None:
        return login
    quantities = {}
    for key, value in request.POST.items():
        if key.startswith("qty-") and (item_id := int_or_none(key[4:])) and (count := int_or_none(value)):
            quantities[item_id] = count
    try:
        ticket = actions.join_queue(
            request.user,
            campaign_id,
            quantities,
            leader_id=int_or_none(request.POST.get("leader")),
            client_ip=client_ip(request),
        )
    except DomainError as error:
        if error.status == 404:
            raise
        messages.error(request, error.message)
        return redirect("groupbuy:campaign", campaign_id)
    for refused in ticket.refused:
        messages.warning(request, refused.message)
    return redirect("groupbuy:ticket", ticket.ticket)


@require_GET
def ticket_page(request: HttpRequest, ticket: str) -> HttpResponse:
    """排队中 (polls itself) until the consumer wrote the sign-up, then on to its order to pay;
    a released claim goes back to the campaign with the reason; after three minutes of polls, a
    claim still not written was probably lost with the gate's Redis, and the page says so."""
    if (login := _login(request)) is not None:
        return login
    claim = actions.ticket_status(request.user, ticket[:64])
    if claim is not None and claim.sign_up is not None:
        messages.success(request, _("接龙成功，请在截止前完成支付"))
        return _go(request, reverse("orders:order_detail", args=[claim.sign_up.order.number]))
    if claim is not None:
        messages.error(request, claim.released_reason or _("未能接龙"))
        return _go(request, reverse("groupbuy:campaign", args=[claim.item.campaign_id]))
    template = "groupbuy/_ticket.html" if request.htmx else "groupbuy/ticket.html"  # type: ignore[attr-defined]
    polls, gave_up = queue_polls(request)
    return render(request, template, {"ticket": ticket[:64], "next_poll": polls + 1, "gave_up": gave_up})


def _go(request: HttpRequest, url: str) -> HttpResponse:
    if request.htmx:  # type: ignore[attr-defined]
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@require_GET
def open_campaigns(request: HttpRequest) -> HttpResponse:
    """正在接龙: the campaigns taking sign-ups in the member's communities (?community=<id>: one)."""
    if (login := _login(request)) is not None:
        return login
    community_id = int_or_none(request.GET.get("community"))
    campaigns = selectors.open_campaigns(request.user, community_id=community_id)
    page = Paginator(campaigns, OPEN_PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    cards = [PostCard(selectors.CARD_TEMPLATE, selectors.summarise(c, now=now)) for c in page.object_list]
    return render(request, "groupbuy/open_campaigns.html", {"page": page, "cards": cards, "community_id": community_id})


@require_GET
def my_group_buys(request: HttpRequest) -> HttpResponse:
    if (login := _login(request)) is not None:
        return login
    return render(
        request,
        "groupbuy/mine.html",
        {"sign_ups": selectors.my_sign_ups(request.user)[:50], "now": timezone.now(), "OPEN": CampaignStatus.OPEN},
    )


@require_POST
def change_submit(request: HttpRequest, sign_up_id: int) -> HttpResponse:
    if (login := _login(request)) is not None:
        return login
    quantities = {}
    for key, value in request.POST.items():
        if key.startswith("qty-") and (item_id := int_or_none(key[4:])) is not None:
            count = int_or_none(value)
            quantities[item_id] = count if count is not None else -1
    try:
        actions.change_sign_up(request.user, sign_up_id, quantities)
        messages.success(request, _("已修改接龙，差额将原路退回"))
    except DomainError as error:
        if error.status == 404:
            raise
        messages.error(request, error.message)
    return redirect("groupbuy:mine")


@require_POST
def cancel_submit(request: HttpRequest, sign_up_id: int) -> HttpResponse:
    if (login := _login(request)) is not None:
        return login
    try:
        entry = actions.cancel_sign_up(request.user, sign_up_id)
        refunded = entry.status == SignUpStatus.REFUNDED
        messages.success(request, _("已取消接龙，款项将原路退回") if refunded else _("已取消接龙"))
    except DomainError as error:
        if error.status == 404:
            raise
        messages.error(request, error.message)
    return redirect("groupbuy:mine")


# --- leaders (mobile console) ------------------------------------------------------------


def _catalog(shop: Any) -> Any:
    return (
        Sku.objects.filter(shop=shop, is_active=True, product__kind="goods")
        .select_related("product")
        .order_by("product__title", "spec")
    )


@require_GET
def leader_campaigns(request: HttpRequest) -> HttpResponse:
    if (login := _login(request)) is not None:
        return login
    leader = selectors.active_leader(request.user)
    campaigns = list(selectors.leader_campaigns(leader)[:50])
    for campaign in campaigns:
        campaign.my_count = SignUp.objects.filter(  # type: ignore[attr-defined]
            campaign=campaign, leader=leader, status=SignUpStatus.CONFIRMED
        ).count()
    return render(request, "groupbuy/leader/campaigns.html", {"leader": leader, "campaigns": campaigns})


@require_GET
def leader_campaign(request: HttpRequest, campaign_id: int) -> HttpResponse:
    if (login := _login(request)) is not None:
        return login
    leader = selectors.active_leader(request.user)
    campaign = selectors.access_leader_campaign(leader, campaign_id)
    return render(
        request,
        "groupbuy/leader/campaign.html",
        {
            "leader": leader,
            "campaign": campaign,
            "items": _items_view(campaign),
            "entries": selectors.live_list(campaign, leader=leader),
        },
    )


@require_http_methods(["GET", "POST"])
def leader_create(request: HttpRequest) -> HttpResponse:
    if (login := _login(request)) is not None:
        return login
    leader = selectors.active_leader(request.user)
    values: dict[str, Any] = forms.initial_from(None)
    error = ""
    if request.method == "POST":
        values = request.POST.dict()
        try:
            campaign = actions.do_create_leader_campaign(leader, forms.parse_campaign(request.POST))
        except DomainError as failure:
            if failure.status == 404:
                raise
            error = failure.message
        else:
            messages.success(request, _("接龙已发布到你的社群"))
            return redirect("groupbuy:leader_campaign", campaign.pk)
    return render(
        request,
        "groupbuy/leader/create.html",
        {
            "leader": leader,
            "values": values,
            "error": error,
            "skus": _catalog(leader.shop),
            "rows": forms.item_rows(values),
        },
    )


# --- operator console --------------------------------------------------------------------


@console_view(MANAGE_CATALOG)
@require_GET
def console_campaigns(request: HttpRequest) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    campaigns = selectors.shop_campaigns(shop)
    status = request.GET.get("status") or ""
    shown = campaigns.filter(status=status) if status in CampaignStatus.values else campaigns
    return render(
        request,
        "groupbuy/console/campaigns.html",
        {
            "campaigns": shown[:100],
            "rate": selectors.success_rate(campaigns),
            "leader_rates": selectors.leader_success_rates(shop),
            "status": status,
            "statuses": CampaignStatus.choices,
        },
    )


@console_view(MANAGE_CATALOG)
@require_GET
def console_campaign(request: HttpRequest, campaign_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    campaign = selectors.access_campaign(shop, campaign_id)
    return render(
        request,
        "groupbuy/console/campaign.html",
        {
            "campaign": campaign,
            "items": _items_view(campaign),
            "entries": selectors.live_list(campaign),
            "leaders": campaign.leaders.select_related("pickup_point", "community"),
            "paid_units": selectors.paid_units(campaign),
        },
    )


def _console_form(request: HttpRequest, campaign: Campaign | None) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    values: dict[str, Any] = forms.initial_from(campaign)
    chosen = [leader.pk for leader in campaign.leaders.all()] if campaign else []
    error = ""
    if request.method == "POST":
        values = request.POST.dict()
        chosen = [pk for pk in (int_or_none(x) for x in request.POST.getlist("leaders")) if pk]
        try:
            data = forms.parse_campaign(request.POST)
            if campaign is None:
                saved = actions.do_create_campaign(shop, request.user, data, chosen, ip=client_ip(request))
            else:
                saved = actions.do_update_campaign(shop, campaign, request.user, data, chosen, ip=client_ip(request))
        except DomainError as failure:
            if failure.status == 404 and failure.code != "leader_not_found":
                raise
            error = failure.message
        else:
            messages.success(request, _("接龙已保存，发布后团长社群即可看到"))
            return redirect("groupbuy:console_campaign", saved.pk)
    return render(
        request,
        "groupbuy/console/form.html",
        {
            "campaign": campaign,
            "values": values,
            "error": error,
            "chosen": chosen,
            "leaders": selectors.shop_active_leaders(shop),
            "skus": _catalog(shop),
            "rows": forms.item_rows(values),
        },
    )


@console_view(MANAGE_CATALOG)
@require_http_methods(["GET", "POST"])
def console_create(request: HttpRequest) -> HttpResponse:
    return _console_form(request, None)


@console_view(MANAGE_CATALOG)
@require_http_methods(["GET", "POST"])
def console_edit(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = selectors.access_campaign(request.console_shop, campaign_id)  # type: ignore[attr-defined]
    return _console_form(request, campaign)


@console_view(MANAGE_CATALOG)
@require_POST
def console_publish(request: HttpRequest, campaign_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    campaign = selectors.access_campaign(shop, campaign_id)
    try:
        actions.do_publish_campaign(shop, campaign, request.user, ip=client_ip(request))
        messages.success(request, _("接龙已发布到团长的社群"))
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("groupbuy:console_campaign", campaign.pk)


@console_view(MANAGE_CATALOG)
@require_POST
def console_cancel(request: HttpRequest, campaign_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    campaign = selectors.access_campaign(shop, campaign_id)
    try:
        actions.do_cancel_campaign(
            shop, campaign, request.user, reason=request.POST.get("reason", ""), ip=client_ip(request)
        )
        messages.success(request, _("接龙已取消，已付款的接龙将全额退款"))
    except DomainError as error:
        messages.error(request, error.message)
    return redirect(reverse("groupbuy:console_campaign", args=[campaign.pk]))
