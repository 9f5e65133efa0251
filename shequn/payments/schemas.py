from datetime import datetime

from ninja import Schema


class PayOut(Schema):
    order_number: str
    pay_url: str  # open this page to pay (the sandbox cashier; WeChat's pay sheet in production)


class PaymentOut(Schema):
    order_number: str
    gateway: str
    status: str
    amount_fen: int
    refunded_fen: int
    succeeded_at: datetime | None


class RefundDecisionOut(Schema):
    refund_number: str
    status: str
    amount_fen: int
