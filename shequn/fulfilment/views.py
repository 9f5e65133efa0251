"""Pages of group-buy fulfilment: the operator console (supplier summary, pick lists,
settlements), the leader console on mobile (pick lists, goods received, pickup verification,
commission) and the member's pickup code. Thin: parse, call one action, render."""

from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shequn.communities.links import qr_svg
from shequn.core.audit import client_ip
from shequn.core.errors import DomainError
from shequn.core.money import format_fen, format_yuan_input, parse_yuan
from shequn.core.pages import field_errors, int_or_none
from shequn.orders import selectors as order_selectors
from shequn.shops.console import console_view
from shequn.shops.permissions import FULFIL_ORDERS, VIEW_ORDERS
from shequn.shops.selectors import access_delivery_slot, console_delivery_slots

from . import actions, exports, selectors
from .enums import TicketStatus
from .forms import WeightRecordForm


def _pick_header() -> list[str]:
    return [_("序号"), _("成员"), _("商品"), _("规格"), _("数量")]


def _summary_header() -> list[str]:
    return [_("商品"), _("规格"), _("总数量"), _("金额（元）"), _("各团长数量")]


def _slot_pick_header() -> list[str]:
    return [_("订单号"), _("买家"), _("收货地址 / 自提点"), _("商品"), _("规格"), _("数量"), _("状态")]


def _login(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return None


def _date_or_none(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _download(data: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def pick_list_response(campaign: Any, leader: Any, fmt: str) -> HttpResponse | None:
    rows = selectors.pick_list(campaign, leader)
    table = [[r.sequence, r.name, r.title, r.spec, r.units] for r in rows]
    name = f"pick-list-{campaign.pk}-{leader.pk}"
    if fmt == "csv":
        return _download(exports.to_csv(_pick_header(), table), exports.CSV_CONTENT_TYPE, f"{name}.csv")
    if fmt == "xlsx":
        return _download(exports.to_xlsx(_("拣货单"), _pick_header(), table), exports.XLSX_CONTENT_TYPE, f"{name}.xlsx")
    if fmt == "pdf":
        point = leader.pickup_point
        where = (
            _("%(name)s（%(address)s）") % {"name": point.name, "address": point.address}
            if point
            else leader.point_name
        )
        subtitle = _("自提点：%(where)s　取货日期：%(pickup_date)s") % {
            "where": where,
            "pickup_date": campaign.pickup_date,
        }
        data = exports.to_pdf(_("拣货单 · %(title)s") % {"title": campaign.title}, subtitle, _pick_header(), table)
        return _download(data, exports.PDF_CONTENT_TYPE, f"{name}.pdf")
    return None


def summary_table(shop: Any, rows: list[selectors.SummaryRow]) -> list[list[Any]]:
    leaders = {leader.pk: leader.point_name for leader in selectors.shop_leaders(shop)}
    return [
        [
            r.title,
            r.spec,
            r.units,
            format_yuan_input(r.amount_fen),
            _("；").join(f"{leaders.get(lid, lid)} {units}" for lid, units in sorted(r.per_leader.items())),
        ]
        for r in rows
    ]


# --- operator console --------------------------------------------------------------------


@require_GET
@console_view(FULFIL_ORDERS)
def console_fulfilment(request: HttpRequest) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    campaigns = list(selectors.fulfilment_campaigns(shop).prefetch_related("leaders__pickup_point"))
    dates = sorted({c.pickup_date for c in campaigns}, reverse=True)
    return render(request, "fulfilment/console/fulfilment.html", {"campaigns": campaigns, "dates": dates})


@require_GET
@console_view(FULFIL_ORDERS)
def console_summary(request: HttpRequest) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    campaign_id = int_or_none(request.GET.get("campaign"))
    campaign = selectors.access_campaign(shop, campaign_id) if campaign_id else None
    pickup_date = _date_or_none(request.GET.get("date"))
    rows = selectors.supplier_summary(shop, campaign=campaign, pickup_date=pickup_date)
    table = summary_table(shop, rows)
    fmt = request.GET.get("format")
    if fmt == "csv":
        return _download(exports.to_csv(_summary_header(), table), exports.CSV_CONTENT_TYPE, "supplier-summary.csv")
    if fmt == "xlsx":
        data = exports.to_xlsx(_("采购汇总"), _summary_header(), table)
        return _download(data, exports.XLSX_CONTENT_TYPE, "supplier-summary.xlsx")
    query = request.GET.copy()
    query.pop("format", None)
    return render(
        request,
        "fulfilment/console/summary.html",
        {
            "campaign": campaign,
            "pickup_date": pickup_date,
            "table": table,
            "total_fen": sum(r.amount_fen for r in rows),
            "query": query.urlencode(),
        },
    )


@require_GET
@console_view(FULFIL_ORDERS)
def console_pick_list(request: HttpRequest, campaign_id: int, leader_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    campaign = selectors.access_campaign(shop, campaign_id)
    leader = selectors.access_leader(shop, leader_id)
    download = pick_list_response(campaign, leader, request.GET.get("format") or "")
    if download is not None:
        return download
    rows = selectors.pick_list(campaign, leader)
    return render(
        request,
        "fulfilment/console/pick_list.html",
        {"campaign": campaign, "leader": leader, "rows": rows, "totals": selectors.pick_totals(rows)},
    )


@require_GET
@console_view(FULFIL_ORDERS)
def console_slot_pick_lists(request: HttpRequest) -> HttpResponse:
    """Delivery slots from a week ago on, each with its places taken and a pick list."""
    shop = request.console_shop  # type: ignore[attr-defined]
    slots = console_delivery_slots(shop, since=timezone.localdate() - timedelta(days=7))
    return render(request, "fulfilment/console/slot_pick_lists.html", {"slots": slots})


@require_GET
@console_view(FULFIL_ORDERS)
def console_slot_pick_list(request: HttpRequest, slot_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    slot = access_delivery_slot(shop, slot_id)
    rows = selectors.slot_pick_list(shop, slot)
    table = [[r.number, r.name, r.destination, r.title, r.spec, r.units, r.status_label] for r in rows]
    fmt = request.GET.get("format")
    name = f"slot-pick-list-{slot.date:%Y%m%d}-{slot.starts_at:%H%M}"
    if fmt == "csv":
        return _download(exports.to_csv(_slot_pick_header(), table), exports.CSV_CONTENT_TYPE, f"{name}.csv")
    if fmt == "xlsx":
        data = exports.to_xlsx(_("时段拣货单"), _slot_pick_header(), table)
        return _download(data, exports.XLSX_CONTENT_TYPE, f"{name}.xlsx")
    context = {"slot": slot, "rows": rows, "totals": selectors.slot_pick_totals(rows)}
    return render(request, "fulfilment/console/slot_pick_list.html", context)


@require_http_methods(["GET", "POST"])
@console_view(VIEW_ORDERS)
def console_settlements(request: HttpRequest) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    if request.method == "POST":
        try:
            created = actions.create_settlements(
                shop,
                request.user,
                start=_date_or_none(request.POST.get("start")),
                end=_date_or_none(request.POST.get("end")),
                ip=client_ip(request),
            )
            messages.success(
                request,
                ngettext("已生成 %(created)s 张结算单", "已生成 %(created)s 张结算单", len(created))
                % {"created": len(created)},
            )
        except DomainError as error:
            messages.error(request, error.message)
        return redirect("fulfilment:console_settlements")
    return render(
        request, "fulfilment/console/settlements.html", {"settlements": selectors.shop_settlements(shop)[:200]}
    )


@require_http_methods(["GET", "POST"])
@console_view(VIEW_ORDERS)
def console_settlement(request: HttpRequest, settlement_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    settlement = selectors.access_settlement(shop, settlement_id)
    amount_text = format_yuan_input(settlement.commission_fen)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        try:
            if request.POST.get("action") == "confirm":
                actions.confirm_settlement(shop, settlement.pk, request.user, ip=client_ip(request))
                messages.success(request, _("结算单已确认"))
            else:
                amount_text = request.POST.get("amount") or ""
                actions.record_payout(
                    shop,
                    settlement.pk,
                    request.user,
                    amount_fen=parse_yuan(amount_text, field="amount_fen"),
                    reference=request.POST.get("reference") or "",
                    ip=client_ip(request),
                )
                messages.success(request, _("打款已记录"))
        except DomainError as error:
            errors, status = field_errors(error), error.status
            if error.message not in errors.values():
                messages.error(request, error.message)  # e.g. 打款金额应为 ¥12.00, beside the field's note
            if not errors:
                return redirect("fulfilment:console_settlement", settlement.pk)
        else:
            return redirect("fulfilment:console_settlement", settlement.pk)
    return render(
        request,
        "fulfilment/console/settlement.html",
        {
            "settlement": settlement,
            "lines": settlement.lines.select_related("order", "sign_up__user"),
            "payout": getattr(settlement, "payout", None),
            "amount_yuan": amount_text,
            "reference": request.POST.get("reference", "") if request.method == "POST" else "",
            "errors": errors,
        },
        status=status,
    )


# --- leader console (mobile) ----------------------------------------------------------------


@require_GET
def leader_pick_lists(request: HttpRequest) -> HttpResponse:
    if (login := _login(request)) is not None:
        return login
    leader = selectors.my_leader(request.user)
    campaign_id = int_or_none(request.GET.get("campaign"))
    if campaign_id is None:
        return render(
            request,
            "fulfilment/leader/pick_lists.html",
            {"leader": leader, "campaigns": selectors.leader_campaigns(leader)},
        )
    campaign = selectors.access_leader_campaign(leader, campaign_id)
    download = pick_list_response(campaign, leader, request.GET.get("format") or "")
    if download is not None:
        return download
    rows = selectors.pick_list(campaign, leader)
    return render(
        request,
        "fulfilment/leader/pick_list.html",
        {"leader": leader, "campaign": campaign, "rows": rows, "totals": selectors.pick_totals(rows)},
    )


@require_http_methods(["GET", "POST"])
def leader_receive(request: HttpRequest) -> HttpResponse:
    if (login := _login(request)) is not None:
        return login
    leader = selectors.my_leader(request.user)
    campaign_id = int_or_none(request.GET.get("campaign") or request.POST.get("campaign"))
    if campaign_id is None:
        return render(
            request,
            "fulfilment/leader/receive_list.html",
            {"leader": leader, "campaigns": selectors.leader_campaigns(leader)},
        )
    campaign = selectors.access_leader_campaign(leader, campaign_id)
    expected = selectors.expected_units(campaign, leader)
    errors: dict[str, str] = {}
    if request.method == "POST":
        received = {sku_id: int_or_none(request.POST.get(f"sku_{sku_id}")) for sku_id in expected}
        try:
            actions.receive_goods(
                leader,
                campaign.pk,
                {k: v for k, v in received.items() if v is not None},
                actor=request.user,
            )
            messages.success(request, _("已确认收货，成员已收到取货通知"))
            return redirect(f"{reverse('fulfilment:leader_receive')}?campaign={campaign.pk}")
        except DomainError as error:
            errors = (error.details or {}).get("fields", {})
            messages.error(request, error.message)
    items = [
        {"sku_id": sku_id, "title": title, "spec": spec, "units": units, "error": errors.get(str(sku_id), "")}
        for sku_id, (title, spec, units) in sorted(expected.items())
    ]
    return render(
        request,
        "fulfilment/leader/receive.html",
        {
            "leader": leader,
            "campaign": campaign,
            "items": items,
            "receipts": list(selectors.receipts(campaign, leader)),
        },
    )


@require_http_methods(["GET", "POST"])
def leader_verify(request: HttpRequest) -> HttpResponse:
    if (login := _login(request)) is not None:
        return login
    leader = selectors.my_leader(request.user)
    result: dict[str, Any] = {}
    if request.method == "POST":
        try:
            ticket = actions.verify_code(leader, request.POST.get("code") or "", actor=request.user)
            result = {"ok": True, "ticket": ticket, "name": selectors.member_name(ticket.sign_up.user)}
        except DomainError as error:
            result = {"ok": False, "message": error.message, "code": request.POST.get("code") or ""}
    recent = selectors.point_tickets(leader, status=TicketStatus.PICKED_UP).order_by("-picked_up_at")[:10]
    return render(
        request,
        "fulfilment/leader/verify.html",
        {"leader": leader, "result": result, "recent": recent, "open_count": selectors.open_ticket_count(leader)},
    )


@require_http_methods(["GET", "POST"])
def leader_verify_token(request: HttpRequest, token: str) -> HttpResponse:
    """The URL in the member's QR: a leader scans it and confirms the hand-over."""
    if (login := _login(request)) is not None:
        return login
    ticket = selectors.ticket_by_token(token)
    result: dict[str, Any] = {}
    if request.method == "POST":
        try:
            ticket = actions.verify_token(request.user, token)
            result = {"ok": True}
        except DomainError as error:
            result = {"ok": False, "message": error.message}
    elif not selectors.my_leaders(request.user).filter(pickup_point_id=ticket.pickup_point_id).exists():
        result = {"ok": False, "message": _("这不是你的自提点的订单，不能核销")}
    return render(
        request,
        "fulfilment/leader/verify_token.html",
        {
            "ticket": ticket,
            "result": result,
            "name": selectors.member_name(ticket.sign_up.user),
            "lines": ticket.order.lines.all(),
        },
    )


@require_GET
def leader_commission(request: HttpRequest) -> HttpResponse:
    if (login := _login(request)) is not None:
        return login
    leader = selectors.my_leader(request.user)
    rows = selectors.commission_rows(leader)
    settlements = leader.settlements.select_related("payout").all()[:50]
    return render(
        request,
        "fulfilment/leader/commission.html",
        {
            "leader": leader,
            "rows": rows,
            "total": format_fen(sum(r.commission_fen for r in rows)),
            "unsettled": format_fen(sum(r.commission_fen for r in rows if not r.settled)),
            "settlements": settlements,
            "rate": f"{leader.commission_rate_bp / 100:g}%",
        },
    )


# --- member -------------------------------------------------------------------------------


@require_GET
def my_pickup(request: HttpRequest, number: str) -> HttpResponse:
    if (login := _login(request)) is not None:
        return login
    sign_up, ticket = selectors.member_ticket(request.user, number)
    qr = qr_svg(actions.verify_url(ticket)).decode() if ticket and ticket.status == TicketStatus.OPEN else ""
    if qr.startswith("<?xml"):
        qr = qr.split("?>", 1)[1]
    return render(
        request,
        "fulfilment/my_pickup.html",
        {"sign_up": sign_up, "ticket": ticket, "qr": qr, "point": sign_up.leader.pickup_point},
    )


@require_POST
@console_view(FULFIL_ORDERS)
def console_record_weight(request: HttpRequest, order_id: int, line_id: int) -> HttpResponse:
    """Staff record the actual weight of a line sold by weight (console order page)."""
    shop = request.console_shop  # type: ignore[attr-defined]
    order_selectors.access_order(shop, order_id)  # a foreign id is a 404, not a message
    form = WeightRecordForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("；").join(str(error) for errors in form.errors.values() for error in errors))
    else:
        try:
            line = actions.record_line_weight(
                shop,
                order_id,
                line_id,
                form.cleaned_data["actual_grams"],
                actor=request.user,
                ip=client_ip(request),
            )
        except DomainError as error:
            if error.status == 404:
                raise
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("已记录「%(title)s」实重 %(actual_grams)s 克")
                % {"title": line.title, "actual_grams": line.actual_grams},
            )
    return redirect("orders:console_order_detail", order_id=order_id)
