"""Pages of the payments app: pay, the sandbox pay page, and the console's COD and refund buttons."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from shequn.core.audit import client_ip
from shequn.core.errors import DomainError
from shequn.orders.selectors import access_member_order, access_order, access_refund, after_payment_url
from shequn.shops import permissions
from shequn.shops.console import console_view
from shequn.shops.forms import add_domain_error

from . import actions
from .enums import PaymentStatus
from .errors import PayPageNotFound
from .forms import MerchantAccountForm, PlatformKeyForm
from .sandbox import server as sandbox
from .selectors import (
    has_live_configuration,
    merchant_account_of,
    merchant_account_summary,
    payment_for_prepay,
    payment_of,
)


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
    return redirect(actions.start_payment(order, request.user, use_balance=request.POST.get("use_balance") == "1"))


@login_required
def jsapi_cashier(request: HttpRequest, number: str) -> HttpResponse:
    """Inside WeChat: opens WeChat's pay sheet (WeixinJSBridge) for a prepay of the shop's own
    merchant account, then polls the payment until it succeeded."""
    order = access_member_order(request.user, number)
    payment = payment_of(order)
    if payment is not None and payment.status == PaymentStatus.SUCCEEDED:
        return redirect(after_payment_url(order.number))
    context = {
        "order": order,
        "pay_params": actions.jsapi_pay_params(order, request.user),
        "status_url": reverse("api:get_payment", args=[order.number]),
        "done_url": after_payment_url(order.number),
        "order_url": _order_detail(order.number),
    }
    return render(request, "payments/jsapi_pay.html", context)


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
        raise PayPageNotFound(_("支付单不存在或已失效"))
    payment = payment_for_prepay(prepay_id)
    merchant = payment.shop.name if payment is not None else _("商户 %(mchid)s") % {"mchid": txn.mchid}
    error = ""
    if request.method == "POST":
        choice = request.POST.get("action")
        try:
            if choice == "confirm":
                sandbox.confirm(prepay_id)
                actions.sync_after_pay_page(txn.out_trade_no)
                messages.success(request, _("支付成功"))
                return redirect(after_payment_url(txn.out_trade_no))
            if choice == "fail":
                sandbox.fail(prepay_id)
                messages.error(request, _("支付未完成，你可以在订单页重新支付"))
                return redirect(_order_detail(txn.out_trade_no))
            error = _("请选择确认支付或支付失败")
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
    messages.success(request, _("已确认收款，订单 %(number)s 已付款") % {"number": order.number})
    return redirect(_console_order_detail(order.pk))


@require_POST
@console_view(permissions.DECIDE_REFUNDS)
def console_approve_refund(request: HttpRequest, refund_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    refund = access_refund(shop, refund_id)
    actions.approve_refund(shop, refund, request.user, client_ip(request))
    messages.success(request, _("已同意退款 %(number)s，款项原路退回中") % {"number": refund.number})
    return redirect(_console_order_detail(refund.order_id))


# --- the owner's WeChat Pay merchant configuration ------------------------------------------------


def _merchant_page(
    request: HttpRequest,
    form: MerchantAccountForm | None = None,
    key_form: PlatformKeyForm | None = None,
    status: int = 200,
) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    account = merchant_account_of(shop)
    if form is None:
        initial = (
            {"mchid": account.mchid, "appid": account.appid, "merchant_serial": account.merchant_serial}
            if account
            else {}
        )
        form = MerchantAccountForm(initial=initial)
    context = {
        "form": form,
        "key_form": key_form or PlatformKeyForm(),
        "account": account,
        "stored": merchant_account_summary(account),
        "platform_keys": list(account.platform_keys.all()) if account else [],
        "complete": has_live_configuration(shop),
    }
    return render(request, "payments/console_merchant.html", context, status=status)


@console_view(permissions.CONFIGURE_PAYMENTS)
@require_http_methods(["GET", "POST"])
def console_merchant(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _merchant_page(request)
    form = MerchantAccountForm(request.POST)
    if not form.is_valid():
        return _merchant_page(request, form, status=422)
    try:
        actions.do_save_merchant_account(
            request.console_shop,  # type: ignore[attr-defined]
            request.user,
            actions.MerchantAccountInput(**form.cleaned_data),
            ip=client_ip(request),
        )
    except DomainError as error:
        add_domain_error(form, error)
        return _merchant_page(request, form, status=error.status)
    messages.success(request, _("微信支付商户配置已保存"))
    return redirect("payments:console_merchant")


@require_POST
@console_view(permissions.CONFIGURE_PAYMENTS)
def console_platform_key_add(request: HttpRequest) -> HttpResponse:
    key_form = PlatformKeyForm(request.POST)
    if not key_form.is_valid():
        return _merchant_page(request, key_form=key_form, status=422)
    try:
        platform_key = actions.do_add_platform_key(
            request.console_shop,  # type: ignore[attr-defined]
            request.user,
            pem=key_form.cleaned_data["pem"],
            public_key_id=key_form.cleaned_data["public_key_id"],
            ip=client_ip(request),
        )
    except DomainError as error:
        add_domain_error(key_form, error)
        return _merchant_page(request, key_form=key_form, status=error.status)
    messages.success(request, _("已添加平台证书 %(serial)s") % {"serial": platform_key.serial})
    return redirect("payments:console_merchant")


@require_POST
@console_view(permissions.CONFIGURE_PAYMENTS)
def console_platform_key_retire(request: HttpRequest, key_id: int) -> HttpResponse:
    platform_key = actions.do_retire_platform_key(
        request.console_shop,  # type: ignore[attr-defined]
        request.user,
        key_id,
        ip=client_ip(request),
    )
    messages.success(request, _("平台证书 %(serial)s 已停用") % {"serial": platform_key.serial})
    return redirect("payments:console_merchant")
