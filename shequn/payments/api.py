"""Payments API: members pay, operators confirm COD cash and approve refunds, gateways call back."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Header, Router, Status

from shequn.core.audit import client_ip
from shequn.core.idempotency import run_idempotent
from shequn.core.schemas import ErrorOut, error_responses
from shequn.orders.selectors import access_member_order, access_order, access_refund
from shequn.shops import permissions

from . import actions
from .models import Payment
from .schemas import PaymentOut, PayOut, RefundDecisionOut
from .selectors import access_console_shop

router = Router(tags=["payments"])


@router.post(
    "/orders/{number}/pay",
    response={200: PayOut, **error_responses(401, 404, 409, 422, 502)},
    summary="Start paying an order (returns the pay page URL); honours Idempotency-Key",
)
def pay_order(
    request: HttpRequest, number: str, idempotency_key: str | None = Header(None, alias="Idempotency-Key")
) -> Status[Any]:
    def handler() -> tuple[int, dict[str, str]]:
        order = access_member_order(request.user, number)
        return 200, {"order_number": order.number, "pay_url": actions.start_payment(order, request.user)}

    status, body = run_idempotent(
        user=request.user, scope="payments.pay", key=idempotency_key, payload={"number": number}, handler=handler
    )
    return Status(status, body)


@router.post(
    "/notify/sandbox",
    auth=None,
    response={204: None, 400: ErrorOut, 500: ErrorOut},
    summary="Sandbox gateway callback (WeChat Pay v3 notification); 204 when accepted",
)
def sandbox_notification(request: HttpRequest) -> HttpResponse:
    # Verification failures raise NotificationRejected → 400 {"code": "FAIL", ...} with nothing written.
    actions.handle_notification("sandbox", request.headers, request.body)
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


@router.post(
    "/console/shops/{shop_id}/orders/{order_id}/confirm-cod",
    response={200: PaymentOut, **error_responses(401, 403, 404, 409)},
    summary="Staff confirm the cash of a cash-on-delivery order (audited)",
)
def confirm_cod(request: HttpRequest, shop_id: int, order_id: int) -> dict[str, object]:
    shop = access_console_shop(request.user, shop_id, permissions.CONFIRM_COD)
    order = access_order(shop, order_id)
    return _payment_out(actions.confirm_cod_payment(shop, order, request.user, client_ip(request)))


@router.post(
    "/console/shops/{shop_id}/refunds/{refund_id}/approve",
    response={200: RefundDecisionOut, **error_responses(401, 403, 404, 409, 502)},
    summary="Staff approve a refund; the money goes back through the gateway (audited)",
)
def approve_refund(request: HttpRequest, shop_id: int, refund_id: int) -> dict[str, object]:
    shop = access_console_shop(request.user, shop_id, permissions.DECIDE_REFUNDS)
    refund = actions.approve_refund(shop, access_refund(shop, refund_id), request.user, client_ip(request))
    return {"refund_number": refund.number, "status": refund.status, "amount_fen": refund.amount_fen}
