"""Every money flow: start a payment, apply gateway callbacks, COD cash, refunds, reconciliation.

payments sits above orders (ADR 0001), so it calls ``orders.actions`` explicitly. Lock
order everywhere: the Order row first (``orders.selectors.order_for_payment``), then
the Payment, then a GatewayRefund; the orders app locks Order before RefundRequest.
Gateway calls (network in real life) never run while we hold row locks.
"""

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.core import audit, secrets
from shequn.core.alerts import raise_alert
from shequn.core.errors import DomainError, InvalidInput, NotFound
from shequn.core.events import on_commit
from shequn.core.i18n import in_language_of
from shequn.core.money import format_fen
from shequn.notifications.actions import notify
from shequn.orders import actions as order_actions
from shequn.orders.enums import OrderStatus, PaymentMethod
from shequn.orders.errors import OrderNotFound
from shequn.orders.models import Order, RefundRequest
from shequn.orders.selectors import after_payment_url, order_for_payment
from shequn.shops import permissions
from shequn.shops.models import Shop
from shequn.shops.selectors import check_shop_open, require_permission
from shequn.storedvalue import actions as stored_value
from shequn.wechat.selectors import payer_openid

from .enums import GatewayRefundStatus, NotificationOutcome, PaymentStatus
from .errors import NotCashOnDelivery, OrderAlreadyPaid, OrderNotPayable, PaymentMissing
from .gateways import get_gateway, merchant_ids, notify_url, online_gateway
from .gateways.base import GatewayError, NotificationRejected, Refund, Transaction, VerifiedNotification
from .gateways.base import OrderAlreadyPaid as GatewayOrderAlreadyPaid
from .gateways.wechat_v3 import WechatPayV3Gateway, refund_from_resource, transaction_from_resource
from .models import GatewayNotification, GatewayRefund, MerchantAccount, Payment, PlatformKey

logger = logging.getLogger("shequn.payments")

# The Payment of an order its member's balances paid in full (¥0 at any gateway; see start_payment).
BALANCE_GATEWAY = "balance"

# Reconciliation leaves the gateway this long to notify before it asks.
RECONCILE_AFTER = timedelta(minutes=5)

REFUND_EVENTS = {
    "REFUND.SUCCESS": GatewayRefundStatus.SUCCESS,
    "REFUND.ABNORMAL": GatewayRefundStatus.ABNORMAL,
    "REFUND.CLOSED": GatewayRefundStatus.CLOSED,
}
REFUND_QUERY_STATES = {"SUCCESS": "REFUND.SUCCESS", "ABNORMAL": "REFUND.ABNORMAL", "CLOSED": "REFUND.CLOSED"}


def _order_link(number: str) -> str:
    try:
        return reverse("orders:order_detail", args=[number])
    except NoReverseMatch:
        return f"/orders/{number}/"


def pay_page_url(payment: Payment) -> str:
    """The sandbox's cashier, or our JSAPI cashier that opens WeChat's pay sheet."""
    if payment.gateway == "wechat":
        return reverse("payments:jsapi_cashier", args=[payment.out_trade_no])
    return reverse("payments:sandbox_pay_page", args=[payment.prepay_id])


def _notify_member(order: Order, kind: str, texts: Callable[[], tuple[str, str]]) -> None:
    """An inbox message to the order's member, in their language (``texts`` builds title and body)."""
    with in_language_of(order.user):
        title, body = texts()
    on_commit(notify, order.user, shop=order.shop, kind=kind, title=title, body=body, link=_order_link(order.number))


def _description(order: Order) -> str:
    lines = list(order.lines.all()[:2])
    if not lines:
        return _("%(name)s-订单%(number)s") % {"name": order.shop.name, "number": order.number}
    first = lines[0].title
    return f"{order.shop.name}-{first}{'等' if len(lines) > 1 else ''}"[:127]


# --- member pays ----------------------------------------------------------------------


def start_payment(order: Order, user: Any, *, use_balance: bool = False) -> str:
    """Open (or reopen) the online payment of the member's own unpaid order; returns the pay page URL.

    ``use_balance``: when the payment starts, the member's balances (stored value, red packets)
    pay what they afford (``storedvalue.actions.take_balance``); the gateway's Payment is for the
    rest, and an order the balances paid in full is paid at once (a Payment of gateway "balance"
    for ¥0; the return URL is then the order's landing page).

    The gateway is chosen once per order, when its Payment is created (``gateways.online_gateway``:
    the shop's own WeChat Pay inside WeChat when it is configured, else the sandbox), stored on the
    Payment and reused by every retry, wherever the member retries from. Safe to repeat: one
    Payment per order, and the gateway returns the same prepay for the same ``out_trade_no``.

    A shop the platform suspended or closed takes no payment either (``check_shop_open``): the
    unpaid order stays, and the member may cancel it. A payment already made at the gateway is
    still recorded when its notification arrives (``apply_notification`` does not ask): the
    money moved.
    """
    if order.user_id != getattr(user, "pk", None):
        raise OrderNotFound(_("订单不存在"))
    if order.payment_method != PaymentMethod.SANDBOX:
        raise OrderNotPayable(_("货到付款订单无需在线支付"))
    check_shop_open(order.shop)
    openid = payer_openid(user)
    with transaction.atomic():
        locked = order_for_payment(order.number)
        if locked.paid_at is not None:
            raise OrderAlreadyPaid(_("订单已支付"))
        if locked.status != OrderStatus.PENDING_PAYMENT:
            raise OrderNotPayable(_("订单%(label)s，无法支付") % {"label": OrderStatus(locked.status).label})
        if locked.expires_at is not None and locked.expires_at <= timezone.now():
            raise OrderNotPayable(_("订单已超时，无法支付"))
        payment = Payment.objects.select_for_update().filter(order=locked).first()
        if payment is None:
            # Stored value (issue 17): the balances first, the gateway the rest.
            from_balance = stored_value.take_balance(locked) if use_balance else 0
            if from_balance == locked.total_fen:
                now = timezone.now()
                Payment.objects.create(
                    shop_id=locked.shop_id,
                    order=locked,
                    gateway=BALANCE_GATEWAY,
                    out_trade_no=locked.number,
                    amount_fen=0,
                    status=PaymentStatus.SUCCEEDED,
                    succeeded_at=now,
                )
                order_actions.mark_paid(locked, paid_at=now, note=_("余额支付成功"))
                return after_payment_url(locked.number)
            payment = Payment.objects.create(
                shop_id=locked.shop_id,
                order=locked,
                gateway=online_gateway(order.shop, payer_openid=openid).name,
                out_trade_no=locked.number,
                amount_fen=locked.total_fen - from_balance,
            )
        elif payment.status == PaymentStatus.SUCCEEDED:
            raise OrderAlreadyPaid(_("订单已支付"))
        elif payment.status == PaymentStatus.CLOSED:
            raise OrderNotPayable(_("支付已关闭"))
    if not payment.prepay_id:
        prepay = get_gateway(payment.gateway, order.shop).create(
            out_trade_no=payment.out_trade_no,
            amount_fen=payment.amount_fen,
            description=_description(order),
            notify_url=notify_url(payment.gateway, order.shop),
            payer_openid=openid,
        )
        Payment.objects.filter(pk=payment.pk, prepay_id="").update(prepay_id=prepay.prepay_id)
        payment.prepay_id = prepay.prepay_id
    return pay_page_url(payment)


def jsapi_pay_params(order: Order, user: Any) -> dict[str, str]:
    """The signed parameters of WeChat's pay sheet for the member's own order paid through the shop's WeChat Pay."""
    if order.user_id != getattr(user, "pk", None):
        raise OrderNotFound(_("订单不存在"))
    check_shop_open(order.shop)
    payment = Payment.objects.filter(order=order, gateway="wechat").exclude(prepay_id="").first()
    if payment is None:
        raise OrderNotPayable(_("该订单没有待支付的微信支付单"))
    if payment.status != PaymentStatus.CREATED:
        raise OrderNotPayable(_("该订单的微信支付单已结束"))
    gateway = get_gateway("wechat", order.shop)
    assert isinstance(gateway, WechatPayV3Gateway)
    return gateway.jsapi_pay_params(payment.prepay_id)


# --- gateway callbacks ------------------------------------------------------------------


@dataclass(frozen=True)
class Applied:
    outcome: str
    error: str = ""


class _Retryable(Exception):
    """Verified, but applying failed: stored as outcome ``error``; the gateway retries."""


def handle_notification(gateway_name: str, headers: Any, body: bytes, shop: Shop | None = None) -> GatewayNotification:
    """Verify, decrypt and apply one callback. Raises NotificationRejected (4xx) before writing anything.

    A live merchant's callbacks arrive at their shop's URL, verified with that shop's keys."""
    try:
        gateway = get_gateway(gateway_name, shop)
    except InvalidInput as error:
        raise NotificationRejected(_("通知校验失败：%(message)s") % {"message": error.message}, code="FAIL") from None
    verified = gateway.parse_notification(headers, body)
    return apply_notification(gateway_name, verified)


def apply_notification(gateway_name: str, verified: VerifiedNotification) -> GatewayNotification:
    """Apply a verified notification (or a query result shaped like one) exactly once.

    Duplicates only count a delivery. Raises ``NotificationFailed`` after storing outcome
    ``error`` when a verified notification could not be applied, so the gateway retries.
    """
    resource = verified.resource
    out_trade_no = str(resource.get("out_trade_no", ""))
    row: GatewayNotification | None = None
    error_text = ""
    with transaction.atomic():
        order = _lock_order(out_trade_no)
        payment = (
            Payment.objects.select_for_update().filter(order=order, gateway=gateway_name).first() if order else None
        )
        existing = (
            GatewayNotification.objects.select_for_update()
            .filter(gateway=gateway_name, notification_id=verified.id)
            .first()
        )
        if existing is not None and existing.outcome != NotificationOutcome.ERROR:
            GatewayNotification.objects.filter(pk=existing.pk).update(deliveries=F("deliveries") + 1)
            existing.refresh_from_db()
            return existing
        try:
            # The changes, their alerts and the record stand or fall together.
            with transaction.atomic():
                try:
                    with transaction.atomic():
                        applied = _apply(gateway_name, verified, order, payment)
                except (_Retryable, DomainError, IntegrityError) as error:
                    applied = Applied(NotificationOutcome.ERROR, str(error)[:255] or error.__class__.__name__)
                    logger.warning("notification %s not applied: %s", verified.id, applied.error)
                if existing is not None:
                    GatewayNotification.objects.filter(pk=existing.pk).update(
                        deliveries=F("deliveries") + 1, outcome=applied.outcome, error=applied.error
                    )
                    existing.refresh_from_db()
                    row = existing
                else:
                    row = GatewayNotification.objects.create(
                        gateway=gateway_name,
                        notification_id=verified.id,
                        event_type=verified.event_type[:32],
                        resource=resource,
                        outcome=applied.outcome,
                        error=applied.error,
                    )
                error_text = applied.error if applied.outcome == NotificationOutcome.ERROR else ""
        except IntegrityError:
            # A parallel delivery of a notification we could not lock on (no order) stored it first.
            GatewayNotification.objects.filter(gateway=gateway_name, notification_id=verified.id).update(
                deliveries=F("deliveries") + 1
            )
            row = GatewayNotification.objects.get(gateway=gateway_name, notification_id=verified.id)
    if error_text:
        raise NotificationFailed(error_text)
    assert row is not None
    return row


class NotificationFailed(NotificationRejected):
    """Verified and stored, but not applied: answer 5xx so the gateway delivers it again."""

    status = 500


def _lock_order(out_trade_no: str) -> Order | None:
    if not out_trade_no:
        return None
    try:
        return order_for_payment(out_trade_no)
    except NotFound:
        return None


def _apply(gateway_name: str, verified: VerifiedNotification, order: Order | None, payment: Payment | None) -> Applied:
    if verified.event_type == "TRANSACTION.SUCCESS":
        return _apply_transaction(gateway_name, transaction_from_resource(verified.resource), order, payment)
    if verified.event_type in REFUND_EVENTS:
        return _apply_refund(
            gateway_name, REFUND_EVENTS[verified.event_type], refund_from_resource(verified.resource), order, payment
        )
    return Applied(NotificationOutcome.IGNORED, f"unhandled event type {verified.event_type}")


def _mismatch(kind: str, message: str, shop: Shop | None, **detail: Any) -> Applied:
    raise_alert(kind=kind, message=message, shop=shop, **detail)
    return Applied(NotificationOutcome.MISMATCH, message[:255])


def _apply_transaction(gateway_name: str, txn: Transaction, order: Order | None, payment: Payment | None) -> Applied:
    if order is None or payment is None:
        return _mismatch(
            "payment.unknown_transaction",
            _("支付网关通知了未知的商户订单号 %(out_trade_no)s") % {"out_trade_no": txn.out_trade_no},
            order.shop if order else None,
            out_trade_no=txn.out_trade_no,
            transaction_id=txn.transaction_id,
        )
    expected = merchant_ids(gateway_name, order.shop)
    differences = {
        name: {"ours": ours, "gateway": theirs}
        for name, ours, theirs in (
            ("mchid", expected.get("mchid"), txn.mchid),
            ("appid", expected.get("appid"), txn.appid),
            ("amount_fen", payment.amount_fen, txn.amount_fen),
            ("out_trade_no", payment.out_trade_no, txn.out_trade_no),
        )
        if ours != theirs
    }
    if differences:
        return _mismatch(
            "payment.mismatch",
            _("订单 %(number)s 的支付通知与我们的记录不符：%(fields)s")
            % {"number": order.number, "fields": ", ".join(differences)},
            order.shop,
            out_trade_no=txn.out_trade_no,
            differences=differences,
        )
    if txn.trade_state != "SUCCESS":
        return Applied(NotificationOutcome.IGNORED, f"trade_state {txn.trade_state}")
    if payment.status == PaymentStatus.SUCCEEDED:
        if payment.transaction_id and txn.transaction_id != payment.transaction_id:
            return _mismatch(
                "payment.duplicate_transaction",
                _("订单 %(number)s 收到第二笔不同的支付 %(transaction_id)s")
                % {"number": order.number, "transaction_id": txn.transaction_id},
                order.shop,
                ours=payment.transaction_id,
                gateway=txn.transaction_id,
            )
        return Applied(NotificationOutcome.IGNORED, "already applied")

    paid_at = txn.success_time or timezone.now()
    was_closed = payment.status == PaymentStatus.CLOSED
    Payment.objects.filter(pk=payment.pk).update(
        status=PaymentStatus.SUCCEEDED, transaction_id=txn.transaction_id, succeeded_at=paid_at
    )
    payment.status, payment.transaction_id, payment.succeeded_at = (
        PaymentStatus.SUCCEEDED,
        txn.transaction_id,
        paid_at,
    )
    if order.status == OrderStatus.PENDING_PAYMENT and not was_closed:
        order_actions.mark_paid(order, paid_at=paid_at, note=_("微信支付成功"))
        return Applied(NotificationOutcome.APPLIED)
    return _late_payment(order, payment, paid_at)


def _late_payment(order: Order, payment: Payment, paid_at: Any) -> Applied:
    """Money arrived for an order we no longer wait on: reinstate it when stock allows, else refund. Never drop."""
    # An order whose balance part went back when it closed is not reinstated: that part is no longer held.
    if (
        order.status == OrderStatus.CLOSED
        and not stored_value.charge_released(order)
        and order_actions.reinstate_closed_order(order, paid_at=paid_at)
    ):
        raise_alert(
            kind="payment.late_reinstated",
            message=_("订单 %(number)s 关闭后收到付款 %(amount)s，库存充足，订单已恢复")
            % {"number": order.number, "amount": format_fen(payment.amount_fen)},
            shop=order.shop,
            out_trade_no=order.number,
            transaction_id=payment.transaction_id,
        )
        return Applied(NotificationOutcome.APPLIED, "late payment: order reinstated")
    gateway_refund = GatewayRefund.objects.create(
        shop_id=order.shop_id,
        payment=payment,
        out_refund_no=f"LATE{order.number}",
        amount_fen=payment.amount_fen,
        reason=_("订单已关闭，退回付款"),
    )
    on_commit(submit_gateway_refund, gateway_refund.pk)
    raise_alert(
        kind="payment.late_refunded",
        message=(
            _("订单 %(number)s（%(label)s）收到付款 %(amount)s，无法恢复订单，已原路退款")
            % {
                "number": order.number,
                "label": OrderStatus(order.status).label,
                "amount": format_fen(payment.amount_fen),
            }
        ),
        shop=order.shop,
        out_trade_no=order.number,
        transaction_id=payment.transaction_id,
        out_refund_no=gateway_refund.out_refund_no,
    )
    _notify_member(
        order,
        "payment.refund_after_close",
        lambda: (
            _("付款将原路退回"),
            _("订单 %(number)s 已关闭，你支付的 %(amount)s 将原路退回。")
            % {"number": order.number, "amount": format_fen(payment.amount_fen)},
        ),
    )
    return Applied(NotificationOutcome.APPLIED, "late payment: refunded")


def _apply_refund(
    gateway_name: str, new_status: str, refund: Refund, order: Order | None, payment: Payment | None
) -> Applied:
    gateway_refund = (
        GatewayRefund.objects.select_for_update().filter(out_refund_no=refund.out_refund_no, payment=payment).first()
        if payment is not None
        else None
    )
    if order is None or payment is None or gateway_refund is None:
        return _mismatch(
            "refund.unknown",
            _("支付网关通知了未知的退款单 %(out_refund_no)s") % {"out_refund_no": refund.out_refund_no},
            order.shop if order else None,
            out_trade_no=refund.out_trade_no,
            out_refund_no=refund.out_refund_no,
        )
    expected = merchant_ids(gateway_name, order.shop)
    differences = {
        name: {"ours": ours, "gateway": theirs}
        for name, ours, theirs in (
            ("mchid", expected.get("mchid"), refund.mchid),
            ("refund_fen", gateway_refund.amount_fen, refund.refund_fen),
            ("total_fen", payment.amount_fen, refund.total_fen),
        )
        if ours != theirs
    }
    if differences:
        return _mismatch(
            "refund.mismatch",
            _("退款单 %(out_refund_no)s 的通知与我们的记录不符：%(fields)s")
            % {"out_refund_no": refund.out_refund_no, "fields": ", ".join(differences)},
            order.shop,
            out_refund_no=refund.out_refund_no,
            differences=differences,
        )
    if gateway_refund.status != GatewayRefundStatus.PROCESSING:
        return Applied(NotificationOutcome.IGNORED, f"refund already {gateway_refund.status}")
    finished_at = refund.success_time or timezone.now()
    GatewayRefund.objects.filter(pk=gateway_refund.pk).update(
        status=new_status, refund_id=refund.refund_id or gateway_refund.refund_id, finished_at=finished_at
    )
    refund_request = _refund_request(gateway_refund)
    if new_status == GatewayRefundStatus.SUCCESS:
        _add_refunded(payment, gateway_refund.amount_fen)
        if refund_request is not None:
            order_actions.complete_refund(refund_request, refunded_at=finished_at)
        else:
            _notify_member(
                order,
                "payment.refunded",
                lambda: (
                    _("退款成功"),
                    _("订单 %(number)s 的付款 %(amount)s 已原路退回。")
                    % {"number": order.number, "amount": format_fen(gateway_refund.amount_fen)},
                ),
            )
        return Applied(NotificationOutcome.APPLIED)
    reason = _("退款异常（如银行卡已注销）") if new_status == GatewayRefundStatus.ABNORMAL else _("退款已关闭")
    raise_alert(
        kind="refund.failed",
        message=_("退款单 %(out_refund_no)s（订单 %(number)s）%(reason)s，需要人工处理")
        % {"out_refund_no": gateway_refund.out_refund_no, "number": order.number, "reason": reason},
        shop=order.shop,
        out_refund_no=gateway_refund.out_refund_no,
        status=new_status,
    )
    if refund_request is not None:
        order_actions.fail_refund(refund_request, reason)
    return Applied(NotificationOutcome.APPLIED)


def _refund_request(gateway_refund: GatewayRefund) -> RefundRequest | None:
    if gateway_refund.refund_request_id is None:
        return None
    return RefundRequest.objects.select_related("line").get(pk=gateway_refund.refund_request_id)


def _add_refunded(payment: Payment, amount_fen: int) -> None:
    updated = Payment.objects.filter(pk=payment.pk, refunded_fen__lte=F("amount_fen") - amount_fen).update(
        refunded_fen=F("refunded_fen") + amount_fen
    )
    if updated != 1:
        raise _Retryable(f"refund of {amount_fen} fen would exceed payment {payment.out_trade_no}")


# --- staff: cash on delivery and refunds ------------------------------------------------


def confirm_cod_payment(shop: Shop, order: Order, actor: Any, ip: str | None = None) -> Payment:
    """Staff received the cash for a COD order: record the payment and mark the order paid. Audited."""
    require_permission(actor, shop, permissions.CONFIRM_COD)
    if order.shop_id != shop.pk:
        raise OrderNotFound(_("订单不存在"))
    if order.payment_method != PaymentMethod.COD:
        raise NotCashOnDelivery(_("该订单不是货到付款"))
    with transaction.atomic():
        locked = order_for_payment(order.number)
        if locked.paid_at is not None or Payment.objects.filter(order=locked).exists():
            raise OrderAlreadyPaid(_("该订单已确认收款"))
        now = timezone.now()
        payment = Payment.objects.create(
            shop=shop,
            order=locked,
            gateway="cod",
            out_trade_no=locked.number,
            amount_fen=locked.total_fen,
            status=PaymentStatus.SUCCEEDED,
            succeeded_at=now,
        )
        order_actions.mark_paid(locked, paid_at=now, actor=actor, note=_("货到付款，商家确认收款"))
        audit.record(
            actor=actor,
            shop=shop,
            action="payment.confirm_cod",
            obj=locked,
            ip=ip,
            amount_fen=locked.total_fen,
        )
    order.refresh_from_db()
    return payment


def approve_refund(shop: Shop, refund: RefundRequest, actor: Any, ip: str | None = None) -> RefundRequest:
    """Staff approve a refund: the request moves to approved and the money goes back (``pay_approved_refund``)."""
    require_permission(actor, shop, permissions.DECIDE_REFUNDS)
    if refund.shop_id != shop.pk:
        raise NotFound(_("售后申请不存在"), code="refund_not_found")
    with transaction.atomic():
        order = order_for_payment(Order.objects.values_list("number", flat=True).get(pk=refund.order_id))
        if not Payment.objects.filter(order=order, status=PaymentStatus.SUCCEEDED).exists():
            raise PaymentMissing(_("订单尚未付款，无法退款"))
        order_actions.approve_refund(refund, actor)
        audit.record(
            actor=actor,
            shop=shop,
            action="refund.approve",
            obj=refund,
            ip=ip,
            amount_fen=refund.amount_fen,
            order=order.number,
        )
    refund.refresh_from_db()
    return refund


def pay_approved_refund(sender: Any, refund: RefundRequest, order: Order, **kwargs: Any) -> None:
    """Receiver of ``orders.signals.refund_approved``: pay an approved refund back, in the same transaction.

    The refund number is the gateway's ``out_refund_no``, unique in our table and at the
    gateway, so one request refunds once. COD refunds are paid back in cash at once. The
    caller holds the order's row lock; the gateway is called after commit.
    """
    payment = Payment.objects.select_for_update().filter(order_id=order.pk, status=PaymentStatus.SUCCEEDED).first()
    if payment is None:
        # Staff approvals check this first; a rule's approval of an order paid without a
        # Payment record (a data repair) must not be lost: it waits, approved, for staff.
        raise_alert(
            kind="refund.no_payment",
            message=_("退款单 %(number)s 已同意，但订单 %(number2)s 没有成功的支付记录，请人工处理")
            % {"number": refund.number, "number2": order.number},
            shop=order.shop,
            out_refund_no=refund.number,
        )
        return
    # Stored value (issue 17): the balances' share goes back to them at once; the gateway refunds the rest.
    gateway_left = payment.amount_fen - (
        GatewayRefund.objects.filter(
            payment=payment, status__in=[GatewayRefundStatus.PROCESSING, GatewayRefundStatus.SUCCESS]
        ).aggregate(total=Sum("amount_fen"))["total"]
        or 0
    )
    gateway_fen = refund.amount_fen - stored_value.return_refund_share(
        order, refund.number, refund.amount_fen, gateway_left
    )
    if not gateway_fen:
        order_actions.complete_refund(refund, refunded_at=timezone.now())
        return
    gateway_refund = GatewayRefund.objects.create(
        shop_id=order.shop_id,
        payment=payment,
        refund_request=refund,
        out_refund_no=refund.number,
        amount_fen=gateway_fen,
        reason=refund.reason[:80],
    )
    if get_gateway(payment.gateway, order.shop).online:
        on_commit(submit_gateway_refund, gateway_refund.pk)
        return
    # Cash on delivery: staff hand the cash back; the refund is complete now.
    now = timezone.now()
    GatewayRefund.objects.filter(pk=gateway_refund.pk).update(
        status=GatewayRefundStatus.SUCCESS, refund_id=f"cash-{refund.number}"[:64], finished_at=now
    )
    _add_refunded(payment, gateway_fen)
    order_actions.complete_refund(refund, refunded_at=now)


def submit_gateway_refund(gateway_refund_id: int) -> None:
    """Send a refund to the gateway (again, if need be: the same number refunds once)."""
    gateway_refund = GatewayRefund.objects.select_related("payment__shop").get(pk=gateway_refund_id)
    if gateway_refund.status != GatewayRefundStatus.PROCESSING or gateway_refund.refund_id:
        return
    payment = gateway_refund.payment
    try:
        result = get_gateway(payment.gateway, payment.shop).refund(
            out_trade_no=payment.out_trade_no,
            out_refund_no=gateway_refund.out_refund_no,
            refund_fen=gateway_refund.amount_fen,
            total_fen=payment.amount_fen,
            reason=gateway_refund.reason,
            notify_url=notify_url(payment.gateway, payment.shop),
        )
    except GatewayError as error:
        if error.details.get("gateway_code") in REFUND_REFUSALS:
            _refund_refused(gateway_refund.pk, error)
            return
        # Not reachable or a server error: left PROCESSING without a refund id, reconciliation resubmits it.
        logger.warning("refund %s not accepted yet: %s", gateway_refund.out_refund_no, error.message)
        return
    GatewayRefund.objects.filter(pk=gateway_refund.pk, refund_id="").update(refund_id=result.refund_id)


# Answers meaning the gateway will never accept this refund as asked (WeChat's error codes).
REFUND_REFUSALS = frozenset(
    {"NOT_ENOUGH", "INVALID_REQUEST", "PARAM_ERROR", "RESOURCE_NOT_EXISTS", "USER_ACCOUNT_ABNORMAL"}
)


def _refund_refused(gateway_refund_id: int, error: GatewayError) -> None:
    """The gateway refused the refund outright: close it, fail the member's request, alert staff."""
    with transaction.atomic():
        gateway_refund = GatewayRefund.objects.select_related("payment").get(pk=gateway_refund_id)
        order_for_payment(gateway_refund.payment.out_trade_no)
        locked = GatewayRefund.objects.select_for_update(of=("self",)).select_related("shop").get(pk=gateway_refund_id)
        if locked.status != GatewayRefundStatus.PROCESSING or locked.refund_id:
            return
        GatewayRefund.objects.filter(pk=locked.pk).update(status=GatewayRefundStatus.CLOSED, finished_at=timezone.now())
        raise_alert(
            kind="refund.refused",
            message=_("支付网关拒绝了退款单 %(out_refund_no)s：%(message)s")
            % {"out_refund_no": locked.out_refund_no, "message": error.message},
            shop=locked.shop,
            out_refund_no=locked.out_refund_no,
            gateway_code=error.details.get("gateway_code"),
        )
        refund_request = _refund_request(locked)
        if refund_request is not None:
            order_actions.fail_refund(refund_request, _("支付网关拒绝退款：%(message)s") % {"message": error.message})


# --- reconciliation (the gateway did not notify) ----------------------------------------


def _apply_queried_transaction(payment: Payment, txn: Transaction) -> GatewayNotification | None:
    if txn.trade_state != "SUCCESS" or not txn.transaction_id:
        return None
    verified = VerifiedNotification(
        id=f"query-{txn.transaction_id}"[:64],
        create_time=timezone.now().isoformat(),
        event_type="TRANSACTION.SUCCESS",
        resource_type="query",
        resource=dict(txn.raw),
    )
    return apply_notification(payment.gateway, verified)


def refresh_payment(payment: Payment) -> GatewayNotification | None:
    """Ask the gateway about one payment and apply a success exactly as its notification would."""
    if payment.status == PaymentStatus.SUCCEEDED or not payment.prepay_id:
        return None
    gateway = get_gateway(payment.gateway, payment.shop)
    if not gateway.online:
        return None
    try:
        txn = gateway.query(payment.out_trade_no)
    except GatewayError as error:
        logger.warning("query of %s failed: %s", payment.out_trade_no, error.message)
        return None
    return _apply_queried_transaction(payment, txn)


def refresh_refund(gateway_refund: GatewayRefund) -> GatewayNotification | None:
    if gateway_refund.status != GatewayRefundStatus.PROCESSING:
        return None
    if not gateway_refund.refund_id:
        submit_gateway_refund(gateway_refund.pk)
        return None
    gateway = get_gateway(gateway_refund.payment.gateway, gateway_refund.payment.shop)
    try:
        refund = gateway.query_refund(gateway_refund.out_refund_no)
    except GatewayError as error:
        logger.warning("query of refund %s failed: %s", gateway_refund.out_refund_no, error.message)
        return None
    event_type = REFUND_QUERY_STATES.get(refund.status)
    if event_type is None:
        return None
    verified = VerifiedNotification(
        id=f"query-{refund.refund_id}-{refund.status}"[:64],
        create_time=timezone.now().isoformat(),
        event_type=event_type,
        resource_type="query",
        resource=dict(refund.raw),
    )
    return apply_notification(gateway_refund.payment.gateway, verified)


def reconcile(*, older_than: timedelta = RECONCILE_AFTER, limit: int = 200) -> int:
    """Query the gateway for payments and refunds still pending after ``older_than``; returns how many changed."""
    cutoff = timezone.now() - older_than
    changed = 0
    payments = Payment.objects.filter(status=PaymentStatus.CREATED, created_at__lte=cutoff).exclude(prepay_id="")
    for payment in payments.exclude(gateway="cod").select_related("shop").order_by("created_at", "id")[:limit]:
        changed += _applied(refresh_payment, payment)
    refunds = GatewayRefund.objects.filter(status=GatewayRefundStatus.PROCESSING, created_at__lte=cutoff)
    for gateway_refund in refunds.exclude(payment__gateway="cod").select_related("payment__shop")[:limit]:
        changed += _applied(refresh_refund, gateway_refund)
    return changed


def _applied(refresh: Any, record: Any) -> int:
    """1 when refreshing ``record`` changed our books; one record's failure never stops the sweep."""
    try:
        row = refresh(record)
    except DomainError as error:
        logger.warning("reconciling %s failed: %s", record, error.message)
        return 0
    return int(row is not None and row.outcome == NotificationOutcome.APPLIED)


def close_gateway_payments(*, limit: int = 200) -> int:
    """Close at the gateway the open payments of orders that closed or were cancelled; returns how many."""
    closed = 0
    rows = Payment.objects.filter(
        status=PaymentStatus.CREATED, order__status__in=[OrderStatus.CLOSED, OrderStatus.CANCELLED]
    ).exclude(gateway="cod")
    for payment in rows.select_related("shop").order_by("id")[:limit]:
        gateway = get_gateway(payment.gateway, payment.shop)
        if payment.prepay_id:
            try:
                gateway.close(payment.out_trade_no)
            except GatewayOrderAlreadyPaid:
                # Paid just before we closed: take the late-payment path now rather than waiting.
                _applied(refresh_payment, payment)
                continue
            except GatewayError as error:
                logger.warning("close of %s failed: %s", payment.out_trade_no, error.message)
                continue
        closed += Payment.objects.filter(pk=payment.pk, status=PaymentStatus.CREATED).update(
            status=PaymentStatus.CLOSED
        )
    return closed


def sync_after_pay_page(out_trade_no: str) -> None:
    """The payer came back from the pay page: query at once (WeChat's advice) instead of waiting for the callback."""
    payment = Payment.objects.filter(out_trade_no=out_trade_no).filter(~Q(gateway="cod")).first()
    if payment is not None:
        try:
            refresh_payment(payment)
        except NotificationRejected:
            logger.exception("applying the queried payment %s failed", out_trade_no)


# --- a shop's live WeChat Pay merchant configuration (owner only, audited) ---------------------

MCHID_PATTERN = re.compile(r"^[0-9]{8,16}$")
APPID_PATTERN = re.compile(r"^wx[0-9A-Za-z]{14,30}$")
MERCHANT_SERIAL_PATTERN = re.compile(r"^[0-9A-Fa-f]{8,64}$")
PUBLIC_KEY_ID_PATTERN = re.compile(r"^PUB_KEY_ID_[0-9]{1,48}$")
API_V3_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{32}$")


@dataclass(frozen=True)
class MerchantAccountInput:
    mchid: str
    appid: str
    merchant_serial: str
    merchant_private_key: str = ""  # PEM; blank keeps the stored key (the form never shows it back)
    api_v3_key: str = ""  # blank keeps the stored key


def _invalid(field_name: str, message: str) -> InvalidInput:
    return InvalidInput(message, code="invalid_merchant_config", details={"fields": {field_name: message}})


def _check_private_key(pem: str) -> None:
    try:
        key = serialization.load_pem_private_key(pem.strip().encode(), password=None)
    except (ValueError, TypeError):
        raise _invalid("merchant_private_key", _("商户API私钥格式不正确（应为 apiclient_key.pem 的内容）")) from None
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < 2048:
        raise _invalid("merchant_private_key", _("商户API私钥应为 2048 位以上的 RSA 私钥"))


def check_merchant_account(data: MerchantAccountInput, existing: MerchantAccount | None) -> None:
    if not MCHID_PATTERN.match(data.mchid):
        raise _invalid("mchid", _("商户号应为 8–16 位数字"))
    if not APPID_PATTERN.match(data.appid):
        raise _invalid("appid", _("AppID 格式不正确（以 wx 开头）"))
    if not MERCHANT_SERIAL_PATTERN.match(data.merchant_serial):
        raise _invalid("merchant_serial", _("证书序列号应为 8–64 位十六进制字符"))
    if data.merchant_private_key:
        _check_private_key(data.merchant_private_key)
    elif existing is None or not existing.merchant_private_key_encrypted:
        raise _invalid("merchant_private_key", _("请填写商户API私钥"))
    if data.api_v3_key:
        if not API_V3_KEY_PATTERN.match(data.api_v3_key):
            raise _invalid("api_v3_key", _("APIv3 密钥应为 32 个字符"))
    elif existing is None or not existing.api_v3_key_encrypted:
        raise _invalid("api_v3_key", _("请填写 APIv3 密钥"))


def do_save_merchant_account(
    shop: Shop, actor: Any, data: MerchantAccountInput, ip: str | None = None
) -> MerchantAccount:
    """Create or update the shop's merchant account. Secrets are encrypted before they reach a
    column; blank secret fields keep what is stored. The audit entry names the fields, never values."""
    require_permission(actor, shop, permissions.CONFIGURE_PAYMENTS)
    with transaction.atomic():
        account = MerchantAccount.objects.select_for_update().filter(shop=shop).first()
        check_merchant_account(data, account)
        if account is None:
            account = MerchantAccount(shop=shop)
        changed = [
            name for name in ("mchid", "appid", "merchant_serial") if getattr(account, name) != getattr(data, name)
        ]
        account.mchid, account.appid, account.merchant_serial = data.mchid, data.appid, data.merchant_serial
        if data.merchant_private_key:
            account.merchant_private_key_encrypted = secrets.encrypt(data.merchant_private_key.strip())
            changed.append("merchant_private_key")
        if data.api_v3_key:
            account.api_v3_key_encrypted = secrets.encrypt(data.api_v3_key)
            changed.append("api_v3_key")
        account.save()
        audit.record(
            actor=actor, shop=shop, action="payments.merchant_account.save", obj=account, ip=ip, fields=changed
        )
    return account


def _platform_key_from_pem(pem: str, public_key_id: str) -> tuple[str, rsa.RSAPublicKey, Any]:
    """(serial, public key, expiry) of a platform certificate, or of the WeChat Pay public key with its id."""
    text = pem.strip()
    if "BEGIN CERTIFICATE" in text:
        try:
            certificate = x509.load_pem_x509_certificate(text.encode())
        except ValueError:
            raise _invalid("pem", _("平台证书格式不正确")) from None
        key: Any = certificate.public_key()
        serial, expires_at = format(certificate.serial_number, "X"), certificate.not_valid_after_utc
    else:
        if not PUBLIC_KEY_ID_PATTERN.match(public_key_id):
            raise _invalid("public_key_id", _("请填写微信支付公钥ID（PUB_KEY_ID_ 开头）"))
        try:
            key = serialization.load_pem_public_key(text.encode())
        except ValueError:
            raise _invalid("pem", _("请粘贴平台证书或微信支付公钥（PEM 格式）")) from None
        serial, expires_at = public_key_id, None
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < 2048:
        raise _invalid("pem", _("平台证书或公钥应为 2048 位以上的 RSA 密钥"))
    return serial, key, expires_at


def do_add_platform_key(
    shop: Shop, actor: Any, *, pem: str, public_key_id: str = "", ip: str | None = None
) -> PlatformKey:
    """Accept a new platform certificate or WeChat Pay public key alongside the live ones (rotation)."""
    require_permission(actor, shop, permissions.CONFIGURE_PAYMENTS)
    serial, key, expires_at = _platform_key_from_pem(pem, public_key_id.strip())
    public_pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    with transaction.atomic():
        account = MerchantAccount.objects.select_for_update().filter(shop=shop).first()
        if account is None:
            raise _invalid("pem", _("请先保存商户号等基本配置"))
        platform_key, created = PlatformKey.objects.get_or_create(
            account=account,
            serial=serial,
            defaults={
                "public_key_pem": public_pem.decode(),
                "from_certificate": expires_at is not None,
                "expires_at": expires_at,
            },
        )
        if not created and platform_key.retired_at is None:
            raise InvalidInput(_("该证书或公钥已在使用中"), code="platform_key_exists")
        if not created:
            PlatformKey.objects.filter(pk=platform_key.pk).update(retired_at=None)
            platform_key.retired_at = None
        audit.record(actor=actor, shop=shop, action="payments.platform_key.add", obj=platform_key, ip=ip, serial=serial)
    return platform_key


def do_retire_platform_key(shop: Shop, actor: Any, platform_key_id: int, ip: str | None = None) -> PlatformKey:
    """Stop accepting signatures of one platform key (WeChat finished rotating away from it)."""
    require_permission(actor, shop, permissions.CONFIGURE_PAYMENTS)
    with transaction.atomic():
        platform_key = PlatformKey.objects.select_for_update().filter(pk=platform_key_id, account__shop=shop).first()
        if platform_key is None:
            raise NotFound(_("平台证书不存在"), code="platform_key_not_found")
        if platform_key.retired_at is None:
            platform_key.retired_at = timezone.now()
            platform_key.save(update_fields=["retired_at"])
            audit.record(
                actor=actor,
                shop=shop,
                action="payments.platform_key.retire",
                obj=platform_key,
                ip=ip,
                serial=platform_key.serial,
            )
    return platform_key


def reencrypt_merchant_secrets() -> int:
    """Move every stored merchant secret onto the newest SHEQUN_SECRETS_KEY; returns how many accounts.

    Run after putting a new key first in SHEQUN_SECRETS_KEY; then the old key can be dropped."""
    done = 0
    for account in MerchantAccount.objects.exclude(merchant_private_key_encrypted="", api_v3_key_encrypted=""):
        with transaction.atomic():
            locked = MerchantAccount.objects.select_for_update().get(pk=account.pk)
            for name in ("merchant_private_key_encrypted", "api_v3_key_encrypted"):
                if getattr(locked, name):
                    setattr(locked, name, secrets.reencrypt(getattr(locked, name)))
            locked.save(update_fields=["merchant_private_key_encrypted", "api_v3_key_encrypted"])
        done += 1
    return done
