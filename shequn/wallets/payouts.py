"""The payout gateway: money from the merchant to a holder's WeChat balance.

It behaves like WeChat Pay's transfer-to-balance API: ``transfer`` is *accepted* at once and the
result comes later, as a signed callback (``parse_notification`` verifies it) or from ``query``
(the reconciler asks about transfers whose callback never came). Results are SUCCESS or FAIL.

The sandbox (the default, ``settings.WALLETS_PAYOUT_GATEWAY = "sandbox"``) keeps its transfers in
``SandboxTransfer`` and delivers the result ``WALLETS_SANDBOX_PAYOUT_DELAY_SECONDS`` later through a
Huey ETA task, signed with HMAC-SHA256 over "timestamp\\nnonce\\nbody\\n" (header names as WeChat's).
A transfer whose amount ends in 99 fen fails (like a holder whose WeChat account cannot receive),
so failures can be tried by hand; every other transfer succeeds.
"""

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from django.utils.translation import gettext as _

from . import conf
from .errors import InvalidPayoutNotification
from .models import SandboxTransfer

SUCCESS = "SUCCESS"
FAIL = "FAIL"
ACCEPTED = "ACCEPTED"
FINAL_STATES = (SUCCESS, FAIL)
MAX_CLOCK_SKEW_SECONDS = 300


@dataclass(frozen=True)
class PayoutResult:
    out_bill_no: str
    state: str  # ACCEPTED (not final yet), SUCCESS or FAIL
    fail_reason: str = ""


class PayoutGateway(Protocol):
    def transfer(self, *, out_bill_no: str, amount_fen: int, holder_id: int, remark: str) -> PayoutResult: ...

    def query(self, out_bill_no: str) -> PayoutResult | None: ...

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> PayoutResult: ...


def _signature(timestamp: str, nonce: str, body: str) -> str:
    message = f"{timestamp}\n{nonce}\n{body}\n".encode()
    return hmac.new(conf.sandbox_payout_key(), message, hashlib.sha256).hexdigest()


def sandbox_notification(out_bill_no: str, state: str, fail_reason: str = "") -> tuple[dict[str, str], bytes]:
    """The headers and body of a sandbox callback, signed (what the sandbox POSTs)."""
    body = json.dumps(
        {"out_bill_no": out_bill_no, "state": state, "fail_reason": fail_reason}, ensure_ascii=False, sort_keys=True
    )
    timestamp, nonce = str(int(time.time())), secrets.token_hex(8)
    headers = {
        "Wechatpay-Timestamp": timestamp,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": _signature(timestamp, nonce, body),
    }
    return headers, body.encode()


class SandboxPayoutGateway:
    def transfer(self, *, out_bill_no: str, amount_fen: int, holder_id: int, remark: str) -> PayoutResult:
        transfer, _ = SandboxTransfer.objects.get_or_create(
            out_bill_no=out_bill_no, defaults={"amount_fen": amount_fen}
        )
        if transfer.state == ACCEPTED:
            from .tasks import deliver_sandbox_transfer  # tasks import actions, which import us

            deliver_sandbox_transfer.schedule(args=(out_bill_no,), delay=conf.sandbox_payout_delay_seconds())
        return PayoutResult(out_bill_no, transfer.state, transfer.fail_reason)

    def decide(self, out_bill_no: str) -> PayoutResult | None:
        """The sandbox's side: the transfer's final result (amounts ending in 99 fen fail)."""
        transfer = SandboxTransfer.objects.filter(out_bill_no=out_bill_no).first()
        if transfer is None:
            return None
        if transfer.state == ACCEPTED:
            failed = transfer.amount_fen % 100 == 99
            transfer.state = FAIL if failed else SUCCESS
            transfer.fail_reason = _("收款用户账户异常") if failed else ""
            transfer.save(update_fields=["state", "fail_reason"])
        return PayoutResult(out_bill_no, transfer.state, transfer.fail_reason)

    def query(self, out_bill_no: str) -> PayoutResult | None:
        transfer = SandboxTransfer.objects.filter(out_bill_no=out_bill_no).first()
        return None if transfer is None else PayoutResult(out_bill_no, transfer.state, transfer.fail_reason)

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> PayoutResult:
        lowered = {key.lower(): value for key, value in headers.items()}
        timestamp = lowered.get("wechatpay-timestamp", "")
        nonce = lowered.get("wechatpay-nonce", "")
        signature = lowered.get("wechatpay-signature", "")
        try:
            text = body.decode()
            skew = abs(time.time() - int(timestamp))
        except (UnicodeDecodeError, ValueError):
            raise InvalidPayoutNotification(_("回调格式不正确")) from None
        if skew > MAX_CLOCK_SKEW_SECONDS:
            raise InvalidPayoutNotification(_("回调时间戳过期"))
        if not nonce or not hmac.compare_digest(signature, _signature(timestamp, nonce, text)):
            raise InvalidPayoutNotification(_("回调签名无效"))
        try:
            data = json.loads(text)
            result = PayoutResult(str(data["out_bill_no"]), str(data["state"]), str(data.get("fail_reason") or ""))
        except (ValueError, KeyError, TypeError):
            raise InvalidPayoutNotification(_("回调内容不正确")) from None
        if result.state not in FINAL_STATES:
            raise InvalidPayoutNotification(_("回调状态不正确"))
        return result


def get_gateway() -> PayoutGateway:
    name = conf.payout_gateway_name()
    if name == "sandbox":
        return SandboxPayoutGateway()
    raise ValueError(f"unknown payout gateway {name!r}")
