"""Cash on delivery: no money moves online; staff confirm the cash and pay refunds back in cash."""

from collections.abc import Mapping

from django.utils import timezone
from django.utils.translation import gettext as _

from .base import Gateway, GatewayError, NotificationRejected, Prepay, Refund, Transaction, VerifiedNotification


class CodGateway(Gateway):
    name = "cod"
    online = False

    def create(
        self, *, out_trade_no: str, amount_fen: int, description: str, notify_url: str, payer_openid: str = ""
    ) -> Prepay:
        raise GatewayError(_("货到付款无需在线支付"), code="cod_no_online_payment")

    def query(self, out_trade_no: str) -> Transaction:
        raise GatewayError(_("货到付款没有网关交易可查询"), code="cod_no_online_payment")

    def close(self, out_trade_no: str) -> None:
        return None  # nothing is open anywhere

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
        # Cash goes back hand to hand: the refund is done the moment staff record it.
        return Refund(
            mchid="",
            out_trade_no=out_trade_no,
            out_refund_no=out_refund_no,
            refund_id=f"cash-{out_refund_no}",
            status="SUCCESS",
            refund_fen=refund_fen,
            total_fen=total_fen,
            success_time=timezone.now(),
        )

    def query_refund(self, out_refund_no: str) -> Refund:
        raise GatewayError(_("货到付款的退款以现金完成，无需查询"), code="cod_no_online_payment")

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> VerifiedNotification:
        raise NotificationRejected("cash on delivery sends no notifications", code="FAIL")
