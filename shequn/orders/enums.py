from django.db import models


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = (
        "pending_payment",
        "待付款",
    )  # created, stock reserved, waiting for money (or COD)
    PAID = "paid", "已付款"  # money received, waiting for fulfilment
    SHIPPED = "shipped", "已发货"  # handed to the courier (delivery)
    DELIVERED = "delivered", "已送达"  # courier delivered; after-sales window runs
    READY_FOR_PICKUP = "ready_for_pickup", "待自提"  # waiting at the pickup point
    PICKED_UP = "picked_up", "已自提"  # member collected it
    COMPLETED = "completed", "已完成"  # done; only after-sales may still move money
    CANCELLED = "cancelled", "已取消"  # cancelled by the member or staff before payment
    CLOSED = "closed", "已关闭"  # unpaid past its deadline (stock released), or refunded in full before hand-over


class Fulfilment(models.TextChoices):
    DELIVERY = "delivery", "快递配送"  # shipped to an address
    PICKUP = "pickup", "到店自提"  # collected at a pickup point
    NONE = "none", "无需配送"  # nothing to hand over: a community fee, a course, a ticket


class PaymentMethod(models.TextChoices):
    SANDBOX = "sandbox", "微信支付（沙箱）"  # online, WeChat Pay v3 protocol
    COD = "cod", "货到付款"  # cash on delivery; staff confirm the cash


class RefundStatus(models.TextChoices):
    REQUESTED = "requested", "待审核"  # member asked; staff to decide
    APPROVED = "approved", "已同意"  # staff approved; money on its way through the gateway
    REJECTED = "rejected", "已拒绝"  # staff refused, with a reason
    REFUNDED = "refunded", "已退款"  # gateway confirmed the money went back
    FAILED = "failed", "退款异常"  # gateway reported REFUND.ABNORMAL / CLOSED; staff to act
