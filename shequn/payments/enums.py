from django.db import models
from django.utils.translation import gettext_lazy


class PaymentStatus(models.TextChoices):
    CREATED = "created", gettext_lazy("待支付")  # prepay created at the gateway, member not yet paid
    SUCCEEDED = (
        "succeeded",
        gettext_lazy("已支付"),
    )  # gateway confirmed TRANSACTION.SUCCESS (or staff confirmed COD cash)
    CLOSED = "closed", gettext_lazy("已关闭")  # closed with the gateway's close API before payment


class GatewayRefundStatus(models.TextChoices):
    PROCESSING = "processing", gettext_lazy("退款中")  # accepted by the gateway, result pending
    SUCCESS = "success", gettext_lazy("退款成功")  # REFUND.SUCCESS
    ABNORMAL = "abnormal", gettext_lazy("退款异常")  # REFUND.ABNORMAL: e.g. the member's card was closed
    CLOSED = "closed", gettext_lazy("退款关闭")  # REFUND.CLOSED


class NotificationOutcome(models.TextChoices):
    APPLIED = "applied", gettext_lazy("已处理")  # changed our records
    IGNORED = "ignored", gettext_lazy("无需处理")  # valid, but nothing to change (already applied, stale)
    MISMATCH = (
        "mismatch",
        gettext_lazy("金额/商户不符"),
    )  # amount, merchant or app differ from our record: alert raised
    ERROR = "error", gettext_lazy("处理出错")  # verified but failed to apply; WeChat will retry


class SandboxTradeState(models.TextChoices):
    # WeChat Pay v3 trade_state values, used by the sandbox's own books.
    NOTPAY = "NOTPAY"
    SUCCESS = "SUCCESS"
    CLOSED = "CLOSED"
    PAYERROR = "PAYERROR"
    REFUND = "REFUND"
