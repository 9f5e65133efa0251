"""The sandbox's "WeChat Pay servers": signed v3 API, its own books, the payer's confirm/fail.

``handle`` answers merchant API requests exactly as api.mch.weixin.qq.com would: it
checks the ``Authorization`` signature against the merchant's key, then signs its answer
with the active platform key. ``confirm``/``fail`` are what the payer does on the pay page.
"""

import json
import re
import secrets
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from ..enums import SandboxTradeState
from ..gateways.wechat_v3 import ProtocolError, TransportResponse, check_timestamp, dumps
from ..models import SandboxRefund, SandboxTransaction
from . import notify
from .keys import load_keys
from .protocol import encrypt_resource, parse_authorization, request_verifies

SANDBOX_OPENID = "oSandboxPayer0000000000000000"


class SandboxError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _respond(status: int, payload: Any = None) -> TransportResponse:
    body = "" if payload is None else dumps(payload)
    headers = notify.sign_headers(body)
    headers["Request-ID"] = secrets.token_hex(16)
    return TransportResponse(status=status, headers=headers, body=body)


def _authenticate(method: str, url: str, headers: Mapping[str, str], body: str) -> None:
    lowered = {key.lower(): value for key, value in headers.items()}
    try:
        auth = parse_authorization(lowered.get("authorization", ""))
        check_timestamp(auth.timestamp, settings.PAYMENT_NOTIFICATION_MAX_SKEW_SECONDS)
    except ProtocolError as error:
        raise SandboxError(401, "SIGN_ERROR", _("签名错误：%(error)s") % {"error": error}) from None
    keys = load_keys()
    if auth.mchid != settings.SANDBOX_PAY_MCHID:
        raise SandboxError(401, "SIGN_ERROR", _("商户号与签名不符"))
    if auth.serial_no.upper() != keys.merchant_serial:
        raise SandboxError(401, "SIGN_ERROR", _("商户证书序列号不存在"))
    if not request_verifies(keys.merchant_public_key, method, url, auth, body):
        raise SandboxError(401, "SIGN_ERROR", _("签名错误"))


def handle(method: str, url: str, headers: Mapping[str, str], body: str) -> TransportResponse:
    """Answer one merchant API request (``url`` is path plus query, as signed)."""
    try:
        _authenticate(method, url, headers, body)
        payload = json.loads(body) if body else {}
        parts = urlsplit(url)
        for route_method, pattern, view in _ROUTES:
            match = pattern.fullmatch(parts.path)
            if route_method == method.upper() and match:
                status, result = view(payload, parse_qs(parts.query), *map(unquote, match.groups()))
                return _respond(status, result)
        raise SandboxError(404, "RESOURCE_NOT_EXISTS", _("接口不存在"))
    except SandboxError as error:
        return _respond(error.status, {"code": error.code, "message": error.message})
    except (ValueError, KeyError, TypeError):
        return _respond(400, {"code": "PARAM_ERROR", "message": _("参数错误")})


# --- API -------------------------------------------------------------------------------


def _certificates(payload: Any, query: Any) -> tuple[int, Any]:
    keys = load_keys()
    data = []
    for platform_key in keys.platform_keys.values():
        from cryptography.hazmat.primitives import serialization

        pem = platform_key.certificate.public_bytes(serialization.Encoding.PEM).decode()
        data.append(
            {
                "serial_no": platform_key.serial,
                "effective_time": platform_key.certificate.not_valid_before_utc.isoformat(),
                "expire_time": platform_key.certificate.not_valid_after_utc.isoformat(),
                "encrypt_certificate": encrypt_resource(keys.api_v3_key, pem, "certificate"),
            }
        )
    return 200, {"data": data}


def _new_id(prefix: str) -> str:
    return f"{prefix}{timezone.localtime():%Y%m%d}{secrets.randbelow(10**18):018d}"


def _jsapi(payload: Any, query: Any) -> tuple[int, Any]:
    mchid = str(payload["mchid"])
    if mchid != settings.SANDBOX_PAY_MCHID:
        raise SandboxError(400, "MCH_NOT_EXISTS", _("商户号不存在"))
    out_trade_no = str(payload["out_trade_no"])
    if not re.fullmatch(r"[0-9A-Za-z_\-*]{6,32}", out_trade_no):
        raise SandboxError(400, "PARAM_ERROR", _("out_trade_no 格式错误"))
    total = int(payload["amount"]["total"])
    if total <= 0:
        raise SandboxError(400, "PARAM_ERROR", _("金额必须大于 0"))
    payer_openid = str((payload.get("payer") or {}).get("openid", ""))[:128]
    existing = SandboxTransaction.objects.filter(mchid=mchid, out_trade_no=out_trade_no).first()
    if existing is not None:
        # WeChat: repeating a prepay with the same parameters returns the same prepay_id.
        if existing.amount_fen != total:
            raise SandboxError(400, "INVALID_REQUEST", _("同一商户订单号的金额不一致"))
        if existing.trade_state == SandboxTradeState.SUCCESS:
            raise SandboxError(400, "ORDERPAID", _("该订单已支付"))
        if existing.trade_state == SandboxTradeState.CLOSED:
            raise SandboxError(400, "ORDER_CLOSED", _("该订单已关闭"))
        return 200, {"prepay_id": existing.prepay_id}
    try:
        with transaction.atomic():
            created = SandboxTransaction.objects.create(
                mchid=mchid,
                appid=str(payload["appid"]),
                out_trade_no=out_trade_no,
                prepay_id=f"wx{secrets.token_hex(16)}",
                description=str(payload.get("description", ""))[:127],
                amount_fen=total,
                notify_url=str(payload["notify_url"]),
                payer_openid=payer_openid,
            )
    except IntegrityError:
        created = SandboxTransaction.objects.get(mchid=mchid, out_trade_no=out_trade_no)
    return 200, {"prepay_id": created.prepay_id}


def transaction_resource(txn: SandboxTransaction) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "appid": txn.appid,
        "mchid": txn.mchid,
        "out_trade_no": txn.out_trade_no,
        "trade_type": "JSAPI",
        "trade_state": txn.trade_state,
        "trade_state_desc": txn.get_trade_state_display(),
        "amount": {"total": txn.amount_fen, "currency": "CNY"},
    }
    if txn.transaction_id:
        resource.update(
            transaction_id=txn.transaction_id,
            bank_type="OTHERS",
            attach="",
            success_time=notify.rfc3339(txn.success_time),
            payer={"openid": txn.payer_openid or SANDBOX_OPENID},
        )
        resource["amount"].update(payer_total=txn.amount_fen, payer_currency="CNY")
    return resource


def _query(payload: Any, query: Any, out_trade_no: str) -> tuple[int, Any]:
    mchid = (query.get("mchid") or [""])[0]
    txn = SandboxTransaction.objects.filter(mchid=mchid, out_trade_no=out_trade_no).first()
    if txn is None:
        raise SandboxError(404, "ORDER_NOT_EXIST", _("订单不存在"))
    return 200, transaction_resource(txn)


def _close(payload: Any, query: Any, out_trade_no: str) -> tuple[int, Any]:
    with transaction.atomic():
        txn = (
            SandboxTransaction.objects.select_for_update()
            .filter(mchid=str(payload["mchid"]), out_trade_no=out_trade_no)
            .first()
        )
        if txn is None:
            raise SandboxError(404, "ORDER_NOT_EXIST", _("订单不存在"))
        if txn.trade_state in (SandboxTradeState.SUCCESS, SandboxTradeState.REFUND):
            raise SandboxError(400, "ORDERPAID", _("订单已支付"))
        if txn.trade_state != SandboxTradeState.CLOSED:
            txn.trade_state = SandboxTradeState.CLOSED
            txn.save(update_fields=["trade_state"])
    return 204, None


def refund_resource(refund: SandboxRefund, *, for_notification: bool) -> dict[str, Any]:
    txn = refund.transaction
    resource: dict[str, Any] = {
        "mchid": txn.mchid,
        "out_trade_no": txn.out_trade_no,
        "transaction_id": txn.transaction_id,
        "out_refund_no": refund.out_refund_no,
        "refund_id": refund.refund_id,
        "user_received_account": _("支付用户零钱"),
        "amount": {
            "total": txn.amount_fen,
            "refund": refund.amount_fen,
            "payer_total": txn.amount_fen,
            "payer_refund": refund.amount_fen,
        },
    }
    if refund.success_time:
        resource["success_time"] = notify.rfc3339(refund.success_time)
    if for_notification:
        resource["refund_status"] = refund.status
    else:
        resource.update(
            status=refund.status,
            channel="ORIGINAL",
            create_time=notify.rfc3339(refund.created_at),
            amount={**resource["amount"], "currency": "CNY"},
        )
    return resource


def _refund(payload: Any, query: Any) -> tuple[int, Any]:
    out_refund_no = str(payload["out_refund_no"])
    if not re.fullmatch(r"[0-9A-Za-z_\-*@|]{1,64}", out_refund_no):
        raise SandboxError(400, "PARAM_ERROR", _("out_refund_no 格式错误"))
    refund_fen = int(payload["amount"]["refund"])
    total_fen = int(payload["amount"]["total"])
    with transaction.atomic():
        txn = (
            SandboxTransaction.objects.select_for_update()
            .filter(mchid=settings.SANDBOX_PAY_MCHID, out_trade_no=str(payload["out_trade_no"]))
            .first()
        )
        if txn is None:
            raise SandboxError(404, "RESOURCE_NOT_EXISTS", _("订单不存在"))
        existing = SandboxRefund.objects.filter(out_refund_no=out_refund_no).select_related("transaction").first()
        if existing is not None:
            # The same out_refund_no refunds once: a repeat returns the first refund.
            if existing.transaction_id != txn.pk or existing.amount_fen != refund_fen:
                raise SandboxError(400, "INVALID_REQUEST", _("同一退款单号的参数不一致"))
            return 200, refund_resource(existing, for_notification=False)
        if txn.trade_state not in (SandboxTradeState.SUCCESS, SandboxTradeState.REFUND):
            raise SandboxError(400, "INVALID_REQUEST", _("订单未支付，不能退款"))
        if total_fen != txn.amount_fen or refund_fen <= 0:
            raise SandboxError(400, "PARAM_ERROR", _("退款金额参数错误"))
        already = SandboxRefund.objects.filter(transaction=txn).exclude(status="CLOSED").aggregate(s=Sum("amount_fen"))
        if (already["s"] or 0) + refund_fen > txn.amount_fen:
            raise SandboxError(403, "NOT_ENOUGH", _("可退款金额不足"))
        refund = SandboxRefund.objects.create(
            transaction=txn,
            out_refund_no=out_refund_no,
            refund_id=_new_id("50"),
            amount_fen=refund_fen,
            notify_url=str(payload.get("notify_url") or txn.notify_url),
        )
        _schedule_refund_finish(refund.out_refund_no)
    return 200, refund_resource(refund, for_notification=False)


def _schedule_refund_finish(out_refund_no: str) -> None:
    from shequn.core.events import on_commit

    from .tasks import finish_refund_task

    result = notify.behaviour.refund_result
    delay = notify.behaviour.refund_delay_seconds
    if delay:
        on_commit(finish_refund_task.schedule, (out_refund_no, result), delay=delay)
    else:
        on_commit(finish_refund_task, out_refund_no, result)


def _query_refund(payload: Any, query: Any, out_refund_no: str) -> tuple[int, Any]:
    refund = SandboxRefund.objects.filter(out_refund_no=out_refund_no).select_related("transaction").first()
    if refund is None or refund.transaction.mchid != settings.SANDBOX_PAY_MCHID:
        raise SandboxError(404, "RESOURCE_NOT_EXISTS", _("退款单不存在"))
    return 200, refund_resource(refund, for_notification=False)


_ROUTES: list[tuple[str, re.Pattern[str], Callable[..., tuple[int, Any]]]] = [
    ("GET", re.compile(r"/v3/certificates"), _certificates),
    ("POST", re.compile(r"/v3/pay/transactions/jsapi"), _jsapi),
    ("GET", re.compile(r"/v3/pay/transactions/out-trade-no/([^/]+)"), _query),
    ("POST", re.compile(r"/v3/pay/transactions/out-trade-no/([^/]+)/close"), _close),
    ("POST", re.compile(r"/v3/refund/domestic/refunds"), _refund),
    ("GET", re.compile(r"/v3/refund/domestic/refunds/([^/]+)"), _query_refund),
]


# --- The payer (pay page) and the bank (refund results) -------------------------------


def transaction_for_prepay(prepay_id: str) -> SandboxTransaction | None:
    return SandboxTransaction.objects.filter(prepay_id=prepay_id).first()


def confirm(prepay_id: str) -> SandboxTransaction:
    """The payer pays. Sends TRANSACTION.SUCCESS once the books commit; paying twice changes nothing."""
    with transaction.atomic():
        txn = SandboxTransaction.objects.select_for_update().filter(prepay_id=prepay_id).first()
        if txn is None:
            raise SandboxError(404, "ORDER_NOT_EXIST", _("支付单不存在"))
        if txn.trade_state == SandboxTradeState.CLOSED:
            raise SandboxError(400, "ORDER_CLOSED", _("该订单已关闭，无法支付"))
        if txn.trade_state in (SandboxTradeState.NOTPAY, SandboxTradeState.PAYERROR):
            txn.trade_state = SandboxTradeState.SUCCESS
            txn.transaction_id = _new_id("42")
            txn.success_time = timezone.now()
            txn.save(update_fields=["trade_state", "transaction_id", "success_time"])
            notify.send_notification(
                notify_url=txn.notify_url,
                event_type="TRANSACTION.SUCCESS",
                original_type="transaction",
                resource=transaction_resource(txn),
            )
    return txn


def fail(prepay_id: str) -> SandboxTransaction:
    """The payment fails (card declined, payer gave up). WeChat sends no notification for this."""
    with transaction.atomic():
        txn = SandboxTransaction.objects.select_for_update().filter(prepay_id=prepay_id).first()
        if txn is None:
            raise SandboxError(404, "ORDER_NOT_EXIST", _("支付单不存在"))
        if txn.trade_state == SandboxTradeState.NOTPAY:
            txn.trade_state = SandboxTradeState.PAYERROR
            txn.save(update_fields=["trade_state"])
    return txn


REFUND_EVENTS = {"SUCCESS": "REFUND.SUCCESS", "ABNORMAL": "REFUND.ABNORMAL", "CLOSED": "REFUND.CLOSED"}


def finish_refund(out_refund_no: str, status: str = "SUCCESS") -> None:
    """The bank answers a refund; the sandbox notifies the merchant once."""
    if status not in REFUND_EVENTS:
        raise ValueError(f"unknown refund status {status}")
    with transaction.atomic():
        refund = (
            SandboxRefund.objects.select_for_update(of=("self",))
            .select_related("transaction")
            .filter(out_refund_no=out_refund_no)
            .first()
        )
        if refund is None or refund.status != "PROCESSING":
            return
        refund.status = status
        if status == "SUCCESS":
            refund.success_time = timezone.now()
        refund.save(update_fields=["status", "success_time"])
        if status == "SUCCESS":
            SandboxTransaction.objects.filter(pk=refund.transaction_id).update(trade_state=SandboxTradeState.REFUND)
        notify.send_notification(
            notify_url=refund.notify_url,
            event_type=REFUND_EVENTS[status],
            original_type="refund",
            resource=refund_resource(refund, for_notification=True),
        )
