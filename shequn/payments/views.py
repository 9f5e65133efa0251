"""Pages of the payments app: pay, the sandbox pay page, and the console's COD and refund buttons."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from shequn.core.audit import client_ip
from shequn.orders.selectors import access_member_order, access_order, access_refund, after_payment_url
from shequn.shops import permissions
from shequn.shops.console import console_view

from . import actions
from .errors import PayPageNotFound
from .sandbox import server as sandbox
from .selectors import payment_for_prepay


def _order_detail(number: str) -> str:
    try:
        return reverse("orders:order_detail", args=[number])
    except NoReverseMatch:
        return f"/orders/{number}/"


def _console_order_detail(order_id: int) -> str:
    try:
        return reverse("orders:console_order_detail", args=[order_id])
    except NoReverseMatch:
        return f"/console/orders/{order_id}/"


@require_POST
@login_required
def pay(request: HttpRequest, number: str) -> HttpResponse:
    order = access_member_order(request.user, number)
    if order.is_cod:
        return redirect(_order_detail(order.number))
    return redirect(actions.start_payment(order, request.user))


def _require_sandbox() -> None:
    # A deployment that takes real payments turns the sandbox off by leaving it out of PAYMENT_GATEWAYS.
    if "sandbox" not in settings.PAYMENT_GATEWAYS:
        raise Http404("sandbox gateway disabled")


@require_http_methods(["GET", "POST"])
def sandbox_pay_page(request: HttpRequest, prepay_id: str) -> HttpResponse:
    """The sandbox's cashier: what WeChat's pay sheet is in real life. The payer confirms or fails."""
    _require_sandbox()
    txn = sandbox.transaction_for_prepay(prepay_id)
    if txn is None:
        raise PayPageNotFound("支付单不存在或已失效")
    payment = payment_for_prepay(prepay_id)
    merchant = payment.shop.name if payment is not None else f"商户 {txn.mchid}"
    error = ""
    if request.method == "POST":
        choice = request.POST.get("action")
        try:
            if choice == "confirm":
                sandbox.confirm(prepay_id)
                actions.sync_after_pay_page(txn.out_trade_no)
                messages.success(request, "支付成功")
                return redirect(after_payment_url(txn.out_trade_no))
            if choice == "fail":
                sandbox.fail(prepay_id)
                messages.error(request, "支付未完成，你可以在订单页重新支付")
                return redirect(_order_detail(txn.out_trade_no))
            error = "请选择确认支付或支付失败"
        except sandbox.SandboxError as failure:
            error = failure.message
        txn.refresh_from_db()
    return render(
        request,
        "payments/sandbox_pay.html",
        {"txn": txn, "merchant": merchant, "error": error, "order_url": _order_detail(txn.out_trade_no)},
        status=409 if error else 200,
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def sandbox_api(request: HttpRequest, rest: str) -> HttpResponse:
    """The sandbox's v3 API over HTTP (what api.mch.weixin.qq.com is for real WeChat Pay)."""
    _require_sandbox()
    url = f"/v3/{rest}" + (f"?{request.META['QUERY_STRING']}" if request.META.get("QUERY_STRING") else "")
    answer = sandbox.handle(request.method or "GET", url, request.headers, request.body.decode("utf-8", "replace"))
    response = HttpResponse(answer.body, status=answer.status, content_type="application/json")
    for name, value in answer.headers.items():
        if name.lower() != "content-type":
            response[name] = value
    return response


@require_POST
@console_view(permissions.CONFIRM_COD)
def console_confirm_cod(request: HttpRequest, order_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    order = access_order(shop, order_id)
    actions.confirm_cod_payment(shop, order, request.user, client_ip(request))
    messages.success(request, f"已确认收款，订单 {order.number} 已付款")
    return redirect(_console_order_detail(order.pk))


@require_POST
@console_view(permissions.DECIDE_REFUNDS)
def console_approve_refund(request: HttpRequest, refund_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    refund = access_refund(shop, refund_id)
    actions.approve_refund(shop, refund, request.user, client_ip(request))
    messages.success(request, f"已同意退款 {refund.number}，款项原路退回中")
    return redirect(_console_order_detail(refund.order_id))
