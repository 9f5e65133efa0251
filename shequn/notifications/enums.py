from django.db import models
from django.utils.translation import gettext_lazy as _


class SubscribeTemplate(models.TextChoices):
    """The WeChat subscribe messages (订阅通知) shequn sends; each needs the member's consent."""

    ORDER_PAID = "order_paid", _("订单支付成功")
    ORDER_SHIPPED = "order_shipped", _("订单发货提醒")
    PICKUP_READY = "pickup_ready", _("自提到货提醒")
    FLASHSALE_STARTED = "flashsale_started", _("秒杀开始提醒")
    REFUND_DONE = "refund_done", _("退款成功通知")


class SubscribeMessageStatus(models.TextChoices):
    PENDING = "pending", _("待发送")  # queued, or waiting for its next retry
    SENDING = "sending", _("发送中")  # claimed by one worker, so a second run sends nothing
    SENT = "sent", _("已发送")
    SKIPPED = "skipped", _("未发送")  # consent withdrawn or no openid by the time it was due
    FAILED = "failed", _("发送失败")  # gave up after the last retry
