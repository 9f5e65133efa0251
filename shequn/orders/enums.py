from django.db import models
from django.utils.translation import gettext_lazy


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = (
        "pending_payment",
        gettext_lazy("待付款"),
    )  # created, stock reserved, waiting for money (or COD)
    PAID = "paid", gettext_lazy("已付款")  # money received, waiting for fulfilment
    SHIPPED = "shipped", gettext_lazy("已发货")  # handed to the courier (delivery)
    DELIVERED = "delivered", gettext_lazy("已送达")  # courier delivered; after-sales window runs
    READY_FOR_PICKUP = "ready_for_pickup", gettext_lazy("待自提")  # waiting at the pickup point
    PICKED_UP = "picked_up", gettext_lazy("已自提")  # member collected it
    COMPLETED = "completed", gettext_lazy("已完成")  # done; only after-sales may still move money
    CANCELLED = "cancelled", gettext_lazy("已取消")  # cancelled by the member or staff before payment
    CLOSED = (
        "closed",
        gettext_lazy("已关闭"),
    )  # unpaid past its deadline (stock released), or refunded in full before hand-over


# Paid and not cancelled, closed or refunded as a whole: the order still stands.
PAID_STATUSES = (
    OrderStatus.PAID,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.READY_FOR_PICKUP,
    OrderStatus.PICKED_UP,
    OrderStatus.COMPLETED,
)


class Fulfilment(models.TextChoices):
    DELIVERY = "delivery", gettext_lazy("快递配送")  # shipped to an address
    PICKUP = "pickup", gettext_lazy("到店自提")  # collected at a pickup point
    NONE = "none", gettext_lazy("无需配送")  # nothing to hand over: a community fee, a course, a ticket


class PaymentMethod(models.TextChoices):
    SANDBOX = "sandbox", gettext_lazy("微信支付（沙箱）")  # online, WeChat Pay v3 protocol
    COD = "cod", gettext_lazy("货到付款")  # cash on delivery; staff confirm the cash
    # Paid in advance: a prepaid package's portions drawn for goods (packages app); never offered
    # at checkout (no gateway), so only ``orders.actions.do_create_prepaid_order`` writes it.
    PREPAID = "prepaid", gettext_lazy("套餐卡兑换")


class RefundStatus(models.TextChoices):
    REQUESTED = "requested", gettext_lazy("待审核")  # member asked; staff to decide
    APPROVED = "approved", gettext_lazy("已同意")  # staff approved; money on its way through the gateway
    REJECTED = "rejected", gettext_lazy("已拒绝")  # staff refused, with a reason
    REFUNDED = "refunded", gettext_lazy("已退款")  # gateway confirmed the money went back
    FAILED = "failed", gettext_lazy("退款异常")  # gateway reported REFUND.ABNORMAL / CLOSED; staff to act
