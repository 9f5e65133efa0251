"""The gateway interface every payment provider implements.

Operations mirror WeChat Pay v3 (create a prepay, query, close, refund, query a refund,
parse a notification), so the sandbox, cash on delivery and a real WeChat adapter are
interchangeable. Amounts are integer fen; times are aware datetimes.
"""

import datetime
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shequn.core.errors import DomainError


class GatewayError(DomainError):
    """The gateway refused a request or could not be reached. Safe to retry later."""

    status = 502
    code = "gateway_error"


class NotificationRejected(DomainError):
    """A callback failed verification (signature, timestamp, serial, decryption). Nothing was written."""

    status = 400
    code = "FAIL"


class OrderAlreadyPaid(GatewayError):
    """``close`` on a transaction the payer already paid (WeChat's ORDERPAID)."""

    status = 409
    code = "order_paid"


@dataclass(frozen=True)
class Prepay:
    prepay_id: str


@dataclass(frozen=True)
class Transaction:
    """A payment as the gateway sees it (WeChat's transaction resource)."""

    mchid: str
    appid: str
    out_trade_no: str
    trade_state: str  # SUCCESS, NOTPAY, CLOSED, PAYERROR, REFUND...
    amount_fen: int
    transaction_id: str | None = None
    success_time: datetime.datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Refund:
    """A refund as the gateway sees it (WeChat's refund resource)."""

    mchid: str
    out_trade_no: str
    out_refund_no: str
    refund_id: str
    status: str  # SUCCESS, PROCESSING, ABNORMAL, CLOSED
    refund_fen: int
    total_fen: int
    success_time: datetime.datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class VerifiedNotification:
    """A callback whose signature, timestamp and serial verified, with its resource decrypted."""

    id: str
    create_time: str
    event_type: str  # TRANSACTION.SUCCESS, REFUND.SUCCESS, REFUND.ABNORMAL, REFUND.CLOSED
    resource_type: str
    resource: dict[str, Any]
    summary: str = ""


class Gateway(ABC):
    name: str
    #: False for gateways money never flows through online (cash on delivery).
    online: bool = True

    @abstractmethod
    def create(
        self, *, out_trade_no: str, amount_fen: int, description: str, notify_url: str, payer_openid: str = ""
    ) -> Prepay:
        """Open a transaction at the gateway (WeChat: JSAPI prepay, for the payer's openid)."""

    @abstractmethod
    def query(self, out_trade_no: str) -> Transaction:
        """The gateway's current view of a transaction."""

    @abstractmethod
    def close(self, out_trade_no: str) -> None:
        """Close an unpaid transaction; raises OrderAlreadyPaid when the payer already paid."""

    @abstractmethod
    def refund(
        self,
        *,
        out_trade_no: str,
        out_refund_no: str,
        refund_fen: int,
        total_fen: int,
        reason: str,
        notify_url: str,
    ) -> Refund:
        """Ask for a refund. The same ``out_refund_no`` refunds once: a repeat returns the first refund."""

    @abstractmethod
    def query_refund(self, out_refund_no: str) -> Refund:
        """The gateway's current view of a refund."""

    @abstractmethod
    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> VerifiedNotification:
        """Verify and decrypt a callback; raise NotificationRejected without side effects when it fails."""
