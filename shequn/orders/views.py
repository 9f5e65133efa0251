"""Pages: member H5 (cart, checkout, orders, refunds) and the operator console. Thin: parse, act, render."""

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shequn.catalog.kinds import ProductKind, is_goods
from shequn.core.audit import client_ip
from shequn.core.errors import DomainError, NotFound
from shequn.core.idempotency import Answer, once
from shequn.core.ids import random_token
from shequn.core.money import format_yuan_input, parse_yuan
from shequn.core.pages import field_errors
from shequn.coupons.errors import CouponNotApplicable
from shequn.coupons.rules import coupon_face
from shequn.loyalty.errors import PointsNotApplicable
from shequn.shops import permissions
from shequn.shops.console import console_view
from shequn.shops.enums import ShopStatus
from shequn.shops.permissions import role_allows
from shequn.shops.selectors import active_pickup_points, console_delivery_slots, shop_overview, staff_shops

from . import actions, selectors
from .enums import Fulfilment, OrderStatus, PaymentMethod, RefundStatus
from .models import OrderLine

PAGE_SIZE = 20


def _int(value: Any, default: int | None = None) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


# --- cart -----------------------------------------------------------------------------


@login_required
@require_GET
def cart(request: HttpRequest) -> HttpResponse:
    return render(request, "orders/cart.html", {"groups": actions.priced_cart(request.user)})


@login_required
@require_POST
def cart_add(request: HttpRequest) -> HttpResponse:
    sku_id = _int(request.POST.get("sku_id"))
    quantity = _int(request.POST.get("quantity"), 1) or 0
    post_id = _int(request.POST.get("post_id"))
    article_id = _int(request.POST.get("article_id"))
    if request.POST.get("buy_now"):
        # "立即购买": straight to checkout for this one SKU; the cart stays as it is.
        actions.check_available_sku(sku_id or 0)
        query = f"sku={sku_id}&quantity={quantity}" + (f"&post={post_id}" if post_id else "")
        query += f"&article={article_id}" if article_id else ""
        return redirect(f"{reverse('orders:checkout')}?{query}")
    try:
        actions.add_to_cart(request.user, sku_id or 0, quantity, post_id=post_id, article_id=article_id)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("已加入购物车"))
    return redirect(_safe_next(request, reverse("orders:cart")))


@login_required
@require_POST
def cart_update(request: HttpRequest, item_id: int) -> HttpResponse:
    try:
        actions.update_cart_item(request.user, item_id, _int(request.POST.get("quantity"), 0) or 0)
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("orders:cart")


@login_required
@require_POST
def cart_remove(request: HttpRequest, item_id: int) -> HttpResponse:
    actions.remove_cart_item(request.user, item_id)
    messages.success(request, _("已从购物车移除"))
    return redirect("orders:cart")


# --- checkout -------------------------------------------------------------------------


def _checkout_source(data: Any) -> dict[str, Any]:
    """What is being bought: one SKU ("buy now") or chosen cart lines."""
    sku_id = _int(data.get("sku"))
    if sku_id:
        return {
            "sku_id": sku_id,
            "quantity": _int(data.get("quantity"), 1) or 0,
            "post_id": _int(data.get("post")),
            "article_id": _int(data.get("article")),
        }
    ids = [_int(part) for part in (data.get("items") or "").split(",") if part.strip()]
    return {"cart_item_ids": [i for i in ids if i] or None}


@login_required
@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest) -> HttpResponse:
    data = request.POST if request.method == "POST" else request.GET
    source = _checkout_source(data)
    addresses = list(request.user.addresses.all())  # type: ignore[union-attr]
    default_address = addresses[0].pk if addresses else None
    choice = {
        "fulfilment": data.get("fulfilment") or Fulfilment.DELIVERY,  # non-goods kinds: none, by the plan
        "payment_method": data.get("payment_method") or actions.enabled_payment_methods()[0],
        "address_id": _int(data.get("address_id"), default_address),
        "pickup_point_id": _int(data.get("pickup_point_id")),
        "delivery_slot_id": _int(data.get("delivery_slot_id")),
        "buyer_note": data.get("buyer_note", ""),
        # A coupon id, 0 for none; absent: the suggested one (the page shows it chosen).
        "coupon_id": _int(data.get("coupon")) or None,
        # Member-card points to take off the goods (the box offers the most this order may take).
        "points": _int(data.get("points")) or 0,
    }
    suggest_coupon = data.get("coupon") in (None, "")
    error: DomainError | None = None
    if request.method == "POST":
        payload = {**source, **choice}
        try:
            submitted = once(
                user=request.user,
                scope="orders.create.page",
                key=request.POST.get("submit_token") or None,
                payload=payload,
                answer=lambda order: (201, {"number": order.number}),
            )
            if submitted is None:
                answer: Answer = (201, {"number": actions.create_order(request.user, **payload).number})
            else:
                answer = actions.create_order_once(request.user, submitted, **payload)
            status, body = answer
            if status == 201:
                return redirect("orders:order_detail", number=body["number"])
            # A replayed failure of this very form: show it again with its own status.
            error = DomainError(body.get("message", _("下单失败")), code=body.get("code"), details=body.get("details"))
            error.status = status
        except DomainError as raised:
            error = raised
    # The quote (as the API's): totals for the current choice, so the member can fix input before submitting.
    quoting = {
        **source,
        "fulfilment": choice["fulfilment"] if choice["fulfilment"] in Fulfilment.values else Fulfilment.DELIVERY,
        # Online where the deployment takes it, so cash not offered by this shop is no error here.
        "payment_method": actions.enabled_payment_methods()[0],
        "check_stock": False,
    }
    try:
        quote = actions.quote_checkout(request.user, **quoting, coupon_id=choice["coupon_id"], points=choice["points"])
    except (CouponNotApplicable, PointsNotApplicable) as refused:  # no longer applies: say why, quote without
        error = error or refused
        quote = actions.quote_checkout(request.user, **quoting)
    if suggest_coupon:
        quote.apply_suggested()
    plan = quote.plan
    next_url = request.get_full_path() if request.method == "GET" else reverse("orders:checkout")
    context = {
        "plan": plan,
        "source": source,
        "items_param": ",".join(str(i) for i in (source.get("cart_item_ids") or [])),
        "choice": choice,
        "addresses": addresses,
        # A group-buy leader's point serves its campaigns only, not the shop's ordinary checkout.
        "pickup_points": list(active_pickup_points(plan.shop).filter(leader__isnull=True)),
        "quote": quote,
        "delivery_fee_fen": quote.delivery_fee_fen,
        "free_shipping_threshold_fen": quote.free_shipping_threshold_fen,
        "payment_methods": quote.payment_methods,
        "goods_to_pay_fen": plan.items_total_fen - plan.discount_fen,
        "coupon_offers": [(offer, coupon_face(offer.coupon)) for offer in quote.coupon_offers],
        "error": error,
        "submit_token": random_token(16),
        "address_new_next": next_url,
        "goods": is_goods(plan.kind),
        "kind_label": ProductKind(plan.kind).label,
    }
    return render(request, "orders/checkout.html", context, status=error.status if error else 200)


# --- member orders --------------------------------------------------------------------

MEMBER_TAB_LABELS = [
    ("", gettext_lazy("全部")),
    ("pending", gettext_lazy("待付款")),
    ("to_ship", gettext_lazy("待发货")),
    ("to_receive", gettext_lazy("待收货")),
    ("done", gettext_lazy("已完成")),
    ("closed", gettext_lazy("已关闭")),  # cancelled, closed unpaid, or refunded in full
]


@login_required
@require_GET
def my_orders(request: HttpRequest) -> HttpResponse:
    tab = request.GET.get("tab", "")
    page = Paginator(selectors.member_orders(request.user, tab or None), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "orders/my_orders.html", {"page": page, "tab": tab, "tabs": MEMBER_TAB_LABELS})


def _line_rows(order: Any) -> list[dict[str, Any]]:
    rows = []
    for line in order.lines.all():
        left = selectors.refundable_left_fen(line)
        refusal = actions.refund_refusal(order, line)
        rows.append({"line": line, "left_fen": left, "can_refund": refusal is None and left > 0, "refusal": refusal})
    return rows


@login_required
@require_GET
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    order = selectors.access_member_order(request.user, number)
    unpaid = order.status == OrderStatus.PENDING_PAYMENT
    # A suspended or closed shop takes no payment (payments.actions.start_payment): say so instead.
    shop_open = order.shop.status == ShopStatus.ACTIVE
    context = {
        "order": order,
        "line_rows": _line_rows(order),
        "cod_to_collect_fen": selectors.cod_to_collect_fen(order, order.lines.all()),
        "events": selectors.order_timeline(order),
        "refunds": selectors.order_refunds(order),
        "can_pay": unpaid and shop_open and order.payment_method == PaymentMethod.SANDBOX,
        "payment_paused": unpaid and not shop_open,
        "can_cancel": unpaid,
        "landing_url": selectors.landing_url(order),
    }
    return render(request, "orders/order_detail.html", context)


@login_required
@require_POST
def cancel_order(request: HttpRequest, number: str) -> HttpResponse:
    try:
        actions.cancel_order_by_member(request.user, number)
    except DomainError as error:
        if error.status == 404:
            raise
        messages.error(request, error.message)
    else:
        messages.success(request, _("订单已取消"))
    return redirect("orders:order_detail", number=number)


@login_required
@require_http_methods(["GET", "POST"])
def request_refund(request: HttpRequest, number: str, line_id: int) -> HttpResponse:
    order = selectors.access_member_order(request.user, number)
    line = OrderLine.objects.filter(order=order, pk=line_id).first()
    if line is None:
        raise NotFound(_("订单中没有这件商品"), code="order_line_not_found")
    error = None
    if request.method == "POST":
        try:
            actions.request_refund(
                request.user,
                number,
                line_id,
                amount_fen=parse_yuan(request.POST.get("amount", ""), min_fen=1, field="amount"),
                reason=request.POST.get("reason", ""),
            )
        except DomainError as raised:
            if raised.status == 404:
                raise
            error = raised
        else:
            messages.success(request, _("退款申请已提交，请等待商家处理"))
            return redirect("orders:order_detail", number=number)
    left = selectors.refundable_left_fen(line)
    context = {
        "order": order,
        "line": line,
        "left_fen": left,
        "refusal": actions.refund_refusal(order, line),
        "error": error,
        "amount_error": field_errors(error).get("amount") if error else None,
        "amount": request.POST.get("amount") if request.method == "POST" else format_yuan_input(left),
        "reason": request.POST.get("reason", ""),
    }
    return render(request, "orders/request_refund.html", context, status=error.status if error else 200)


@login_required
@require_GET
def my_refunds(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.member_refunds(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "orders/my_refunds.html", {"page": page})


# --- console --------------------------------------------------------------------------


def _staff_can(request: HttpRequest) -> dict[str, bool]:
    """Which action forms to show: only what the caller's role may do (the actions check again)."""
    role = request.staff.role  # type: ignore[attr-defined]
    return {
        "fulfil": role_allows(role, permissions.FULFIL_ORDERS),
        "confirm_cod": role_allows(role, permissions.CONFIRM_COD),
        "decide_refunds": role_allows(role, permissions.DECIDE_REFUNDS),
    }


def _console_filters(request: HttpRequest) -> dict[str, Any]:
    get = request.GET
    return {
        "status": get.get("status") if get.get("status") in OrderStatus.values else None,
        "fulfilment": get.get("fulfilment") if get.get("fulfilment") in Fulfilment.values else None,
        "payment_method": get.get("payment_method") if get.get("payment_method") in PaymentMethod.values else None,
        "search": (get.get("q") or "").strip() or None,
        "date_from": parse_date(get.get("date_from") or "") if get.get("date_from") else None,
        "date_to": parse_date(get.get("date_to") or "") if get.get("date_to") else None,
        "delivery_slot_id": _int(get.get("slot")),
    }


@console_view(permissions.VIEW_DASHBOARD)
@require_GET
def console_dashboard(request: HttpRequest) -> HttpResponse:
    """The console's home: today's orders and sales, the shop at a glance, the usual entrances.

    It lives in orders (not shops) because today's figures are orders' to read.
    """
    shop = request.console_shop  # type: ignore[attr-defined]
    staff = request.staff  # type: ignore[attr-defined]
    context = {
        "shop": shop,
        "staff": staff,
        "figures": selectors.todays_figures(shop),
        "overview": shop_overview(shop),
        "my_shops": staff_shops(request.user),
        "can_manage_staff": role_allows(staff.role, permissions.MANAGE_STAFF),
        "can_manage_shop": role_allows(staff.role, permissions.MANAGE_SHOP),
        "can_view_audit": role_allows(staff.role, permissions.VIEW_AUDIT),
    }
    if context["can_manage_shop"]:
        guide = selectors.first_run_guide(shop)
        # Shown until every step is done; the owner or an admin is the one to do them.
        context["guide"] = guide if not all(step.done for step in guide) else None
    return render(request, "orders/console/dashboard.html", context)


@console_view(permissions.VIEW_ORDERS)
@require_GET
def console_orders(request: HttpRequest) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    try:
        filters = _console_filters(request)
    except ValueError:
        filters = {}
    after = _int(request.GET.get("after"))
    rows = list(selectors.staff_orders(shop, after=after, **filters)[: PAGE_SIZE + 1])
    orders = rows[:PAGE_SIZE]
    query = request.GET.copy()
    query.pop("after", None)
    context = {
        "orders": orders,
        "after": after,
        "next_after": orders[-1].pk if len(rows) > PAGE_SIZE else None,
        "figures": selectors.todays_figures(shop),
        "statuses": OrderStatus.choices,
        "fulfilments": Fulfilment.choices,
        "payment_methods": PaymentMethod.choices,
        "slots": list(console_delivery_slots(shop, since=timezone.localdate() - timedelta(days=7))),
        "params": request.GET,
        "query": query.urlencode(),
    }
    return render(request, "orders/console/orders.html", context)


@console_view(permissions.VIEW_ORDERS)
@require_GET
def console_order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    order = selectors.access_order(request.console_shop, order_id)  # type: ignore[attr-defined]
    lines = list(order.lines.all())
    to_collect = selectors.cod_to_collect_fen(order, lines)
    context = {
        "order": order,
        "lines": lines,
        "cod_to_collect_fen": to_collect,
        "cod_weight_credit_fen": 0 if to_collect is None else order.total_fen - to_collect,
        "weighing_open": selectors.weighing_open(order),
        "events": selectors.order_timeline(order),
        "refunds": selectors.order_refunds(order),
        "S": OrderStatus,
        "can": _staff_can(request),
        # Shown beside a disabled button to roles that may not confirm, so they know whom to ask.
        "confirm_cod_hint": permissions.required_roles_hint(permissions.CONFIRM_COD),
        "can_confirm_cod": order.payment_method == PaymentMethod.COD
        and order.paid_at is None
        and order.status not in (OrderStatus.CANCELLED, OrderStatus.CLOSED),
    }
    return render(request, "orders/console/order_detail.html", context)


def _console_act(request: HttpRequest, order_id: int, do: Any, done: str) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    selectors.access_order(shop, order_id)  # a foreign id is a 404, not a message
    try:
        do(shop, order_id, request.user, ip=client_ip(request))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return redirect("orders:console_order_detail", order_id=order_id)


@console_view(permissions.FULFIL_ORDERS)
@require_POST
def console_ship(request: HttpRequest, order_id: int) -> HttpResponse:
    def do(shop: Any, oid: int, actor: Any, ip: str | None) -> Any:
        return actions.ship_order(
            shop,
            oid,
            actor,
            tracking_company=request.POST.get("tracking_company", ""),
            tracking_number=request.POST.get("tracking_number", ""),
            ip=ip,
        )

    return _console_act(request, order_id, do, _("已发货"))


@console_view(permissions.FULFIL_ORDERS)
@require_POST
def console_mark_ready(request: HttpRequest, order_id: int) -> HttpResponse:
    return _console_act(request, order_id, actions.mark_ready_for_pickup, _("已标记为待自提"))


@console_view(permissions.FULFIL_ORDERS)
@require_POST
def console_mark_picked_up(request: HttpRequest, order_id: int) -> HttpResponse:
    return _console_act(request, order_id, actions.mark_picked_up, _("已标记为已自提"))


@console_view(permissions.FULFIL_ORDERS)
@require_POST
def console_mark_delivered(request: HttpRequest, order_id: int) -> HttpResponse:
    return _console_act(request, order_id, actions.mark_delivered, _("已标记为已送达"))


@console_view(permissions.FULFIL_ORDERS)
@require_POST
def console_complete(request: HttpRequest, order_id: int) -> HttpResponse:
    return _console_act(request, order_id, actions.complete_order, _("订单已完成"))


@console_view(permissions.FULFIL_ORDERS)
@require_POST
def console_cancel(request: HttpRequest, order_id: int) -> HttpResponse:
    def do(shop: Any, oid: int, actor: Any, ip: str | None) -> Any:
        return actions.cancel_unpaid_order(shop, oid, actor, reason=request.POST.get("reason", ""), ip=ip)

    return _console_act(request, order_id, do, _("订单已取消"))


@console_view(permissions.VIEW_ORDERS)
@require_GET
def console_refunds(request: HttpRequest) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    status = request.GET.get("status") if request.GET.get("status") in RefundStatus.values else None
    page = Paginator(selectors.shop_refunds(shop, status=status), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "orders/console/refunds.html",
        {"page": page, "status": status or "", "statuses": RefundStatus.choices, "can": _staff_can(request)},
    )


@console_view(permissions.DECIDE_REFUNDS)
@require_POST
def console_reject_refund(request: HttpRequest, refund_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    refund = selectors.access_refund(shop, refund_id)
    try:
        actions.reject_refund(shop, refund, request.user, request.POST.get("reason", ""), ip=client_ip(request))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("已拒绝退款申请"))
    return redirect(_safe_next(request, reverse("orders:console_refunds")))
