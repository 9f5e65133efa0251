"""Payments API: members pay, operators confirm COD cash and approve refunds, gateways call back."""

from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Header, Router, Status

from shequn.core.audit import client_ip
from shequn.core.errors import InvalidInput, NotFound
from shequn.core.idempotency import run_idempotent
from shequn.core.schemas import ErrorOut, Id, Text, error_responses
from shequn.orders.selectors import access_member_order, access_order, access_refund
from shequn.shops import permissions
from shequn.shops.models import Shop
from shequn.shops.selectors import require_permission, staff_shops

from . import actions
from .enums import PaymentStatus
from .models import Payment
from .schemas import PaymentOut, PayOut, RefundDecisionOut
from .selectors import payment_of

router = Router(tags=["payments"])


# 403: the platform suspended or closed the shop (shop_suspended, shop_closed); the order stays.
@router.post(
    "/orders/{number}/pay",
    response={200: PayOut, **error_responses(401, 403, 404, 409, 422, 502)},
    summary="Start paying an order (returns the pay page URL); honours Idempotency-Key",
)
def pay_order(
    request: HttpRequest,
    number: Text,
    use_balance: bool = False,
    idempotency_key: Annotated[Text | None, Header(alias="Idempotency-Key")] = None,
) -> Status[Any]:
    """``use_balance``: the member's balances (stored value, red packets) pay what they afford first;
    when they pay it all, the order is paid at once and ``pay_url`` is the order's landing page."""

    def handler() -> tuple[int, dict[str, str]]:
        order = access_member_order(request.user, number)
        pay_url = actions.start_payment(order, request.user, use_balance=use_balance)
        return 200, {"order_number": order.number, "pay_url": pay_url}

    status, body = run_idempotent(
        user=request.user,
        scope="payments.pay",
        key=idempotency_key,
        payload={"number": number, "use_balance": use_balance},
        handler=handler,
    )
    return Status(status, body)


@router.get(
    "/orders/{number}",
    response={200: PaymentOut, **error_responses(401, 404, 422)},
    summary="The payment of the member's own order (after returning from the pay page, asks the gateway once)",
)
def get_payment(request: HttpRequest, number: Text) -> dict[str, object]:
    order = access_member_order(request.user, number)
    payment = payment_of(order)
    if payment is None:
        raise NotFound(_("该订单还没有发起支付"), code="payment_not_found")
    if payment.status == PaymentStatus.CREATED:
        # WeChat's advice for the moment the payer comes back: query instead of waiting for the callback.
        actions.sync_after_pay_page(order.number)
        payment.refresh_from_db()
    return _payment_out(payment)


@router.post(
    "/notify/sandbox",
    auth=None,
    response={204: None, 400: ErrorOut, 500: ErrorOut},
    summary="Sandbox gateway callback (WeChat Pay v3 notification); 204 when accepted",
)
def sandbox_notification(request: HttpRequest) -> HttpResponse:
    # Verification failures raise NotificationRejected → 400 {"code": "FAIL", ...} with nothing written;
    # with the sandbox left out of PAYMENT_GATEWAYS the gateway lookup refuses (422) before anything else.
    actions.handle_notification("sandbox", request.headers, request.body)
    return HttpResponse(status=204)


@router.post(
    "/notify/wechat/{shop_id}",
    auth=None,
    url_name="wechat_notification",
    response={204: None, 400: ErrorOut, 422: ErrorOut, 500: ErrorOut},
    summary="WeChat Pay v3 notification for a shop's own merchant account; 204 when accepted",
)
def wechat_notification(request: HttpRequest, shop_id: Id) -> HttpResponse:
    # Verified with that shop's platform keys and APIv3 key; an unknown shop or one without a
    # complete configuration is refused like any unverifiable callback (400, nothing written).
    shop = Shop.objects.filter(pk=shop_id).first()
    actions.handle_notification("wechat", request.headers, request.body, shop=shop)
    return HttpResponse(status=204)


def _payment_out(payment: Payment) -> dict[str, object]:
    return {
        "order_number": payment.out_trade_no,
        "gateway": payment.gateway,
        "status": payment.status,
        "amount_fen": payment.amount_fen,
        "refunded_fen": payment.refunded_fen,
        "succeeded_at": payment.succeeded_at,
    }


def _console_shop(request: HttpRequest, permission: Text) -> Shop:
    """The staff caller's shop: the ``X-Shop`` slug, or their only shop; authorised for ``permission``."""
    shops = staff_shops(request.user)
    slug = (request.headers.get("X-Shop") or "").strip()
    if slug:
        shop = shops.filter(slug=slug).first()
    else:
        candidates = list(shops[:2])
        if len(candidates) > 1:
            raise InvalidInput(_("你在多家店铺任职，请用 X-Shop 请求头指定店铺"), code="shop_required")
        shop = candidates[0] if candidates else None
    if shop is None:
        raise NotFound(_("店铺不存在"), code="shop_not_found")
    require_permission(request.user, shop, permission)
    return shop


@router.post(
    "/console/orders/{order_id}/confirm-cod",
    response={200: PaymentOut, **error_responses(401, 403, 404, 409, 422)},
    summary="Staff confirm the cash of a cash-on-delivery order (audited); shop from X-Shop",
)
def confirm_cod(request: HttpRequest, order_id: Id) -> dict[str, object]:
    shop = _console_shop(request, permissions.CONFIRM_COD)
    order = access_order(shop, order_id)
    return _payment_out(actions.confirm_cod_payment(shop, order, request.user, client_ip(request)))


@router.post(
    "/console/refunds/{refund_id}/approve",
    response={200: RefundDecisionOut, **error_responses(401, 403, 404, 409, 422, 502)},
    summary="Staff approve a refund; the money goes back through the gateway (audited); shop from X-Shop",
)
def approve_refund(request: HttpRequest, refund_id: Id) -> dict[str, object]:
    shop = _console_shop(request, permissions.DECIDE_REFUNDS)
    refund = actions.approve_refund(shop, access_refund(shop, refund_id), request.user, client_ip(request))
    return {"refund_number": refund.number, "status": refund.status, "amount_fen": refund.amount_fen}
