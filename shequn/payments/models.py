from django.db import models
from django.db.models import F, Q

from .enums import GatewayRefundStatus, NotificationOutcome, PaymentStatus, SandboxTradeState


class Payment(models.Model):
    """Our record of one order's payment with a gateway."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="+")
    order = models.OneToOneField("orders.Order", on_delete=models.PROTECT, related_name="payment")
    gateway = models.CharField(max_length=16)  # "sandbox", "cod", later "wechat"
    out_trade_no = models.CharField(max_length=32)
    prepay_id = models.CharField(max_length=64, blank=True)
    transaction_id = models.CharField(max_length=64, null=True, blank=True)  # the gateway's id
    amount_fen = models.PositiveIntegerField()
    refunded_fen = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=12, choices=PaymentStatus.choices, default=PaymentStatus.CREATED)
    created_at = models.DateTimeField(auto_now_add=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["gateway", "out_trade_no"], name="unique_payment_out_trade_no"),
            models.UniqueConstraint(fields=["gateway", "transaction_id"], name="unique_payment_transaction_id"),
            models.CheckConstraint(
                condition=Q(refunded_fen__lte=F("amount_fen")),
                name="payment_refund_not_above_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.gateway}:{self.out_trade_no}"


class GatewayRefund(models.Model):
    """A refund sent to the gateway. ``out_refund_no`` is unique, so one number refunds once."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="+")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    refund_request = models.OneToOneField(
        "orders.RefundRequest",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="gateway_refund",
    )
    out_refund_no = models.CharField(max_length=64, unique=True)
    refund_id = models.CharField(max_length=64, blank=True)  # the gateway's id
    amount_fen = models.PositiveIntegerField()
    reason = models.CharField(max_length=80, blank=True)
    status = models.CharField(
        max_length=12, choices=GatewayRefundStatus.choices, default=GatewayRefundStatus.PROCESSING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.out_refund_no


class GatewayNotification(models.Model):
    """Every verified callback, stored with its outcome (Saleor's TransactionEvent).

    Forged or stale callbacks are refused before anything is written.
    """

    gateway = models.CharField(max_length=16)
    notification_id = models.CharField(max_length=64)  # WeChat's notification "id"; duplicates share it
    event_type = models.CharField(max_length=32)
    resource = models.JSONField(default=dict)  # the decrypted resource
    outcome = models.CharField(max_length=12, choices=NotificationOutcome.choices)
    error = models.CharField(max_length=255, blank=True)
    deliveries = models.PositiveIntegerField(default=1)  # how often the gateway sent it
    received_at = models.DateTimeField(auto_now_add=True)
    last_received_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["gateway", "notification_id"], name="unique_gateway_notification")
        ]


# --- The sandbox gateway's own books (what WeChat's servers would hold) -------------


class SandboxTransaction(models.Model):
    mchid = models.CharField(max_length=32)
    appid = models.CharField(max_length=32)
    out_trade_no = models.CharField(max_length=32)
    prepay_id = models.CharField(max_length=64, unique=True)
    transaction_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    description = models.CharField(max_length=127)
    amount_fen = models.PositiveIntegerField()
    notify_url = models.URLField(max_length=255)
    payer_openid = models.CharField(max_length=128, blank=True)
    trade_state = models.CharField(max_length=10, choices=SandboxTradeState.choices, default=SandboxTradeState.NOTPAY)
    created_at = models.DateTimeField(auto_now_add=True)
    success_time = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["mchid", "out_trade_no"], name="unique_sandbox_out_trade_no")]


class SandboxRefund(models.Model):
    transaction = models.ForeignKey(SandboxTransaction, on_delete=models.PROTECT, related_name="refunds")
    out_refund_no = models.CharField(max_length=64, unique=True)
    refund_id = models.CharField(max_length=64, unique=True)
    amount_fen = models.PositiveIntegerField()
    status = models.CharField(max_length=12, default="PROCESSING")  # PROCESSING / SUCCESS / ABNORMAL / CLOSED
    notify_url = models.URLField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    success_time = models.DateTimeField(null=True, blank=True)


# --- Live WeChat Pay: a shop's own merchant account ---------------------------------------


class MerchantAccount(models.Model):
    """A shop's WeChat Pay merchant configuration. Secrets are Fernet tokens (``core.secrets``):
    the columns never hold the private key or the APIv3 key themselves."""

    shop = models.OneToOneField("shops.Shop", on_delete=models.CASCADE, related_name="merchant_account")
    mchid = models.CharField(max_length=32, blank=True)  # 商户号
    appid = models.CharField(max_length=32, blank=True)  # the official account's AppID the payer's openid belongs to
    merchant_serial = models.CharField(max_length=64, blank=True)  # the merchant API certificate's serial
    merchant_private_key_encrypted = models.TextField(blank=True)  # PEM, encrypted
    api_v3_key_encrypted = models.TextField(blank=True)  # 32 characters, encrypted
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"merchant {self.mchid or '-'} of shop {self.shop_id}"


class PlatformKey(models.Model):
    """A key WeChat Pay signs answers and notifications with: a platform certificate (by its
    serial) or the WeChat Pay public key (by its ``PUB_KEY_ID_…``). Several are live at once
    while WeChat rotates; a retired one verifies nothing."""

    account = models.ForeignKey(MerchantAccount, on_delete=models.CASCADE, related_name="platform_keys")
    serial = models.CharField(max_length=64)
    public_key_pem = models.TextField()  # public: no need to encrypt
    from_certificate = models.BooleanField(default=False)
    expires_at = models.DateTimeField(null=True, blank=True)  # a certificate's not-after
    added_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-added_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["account", "serial"], name="unique_platform_key_serial")]

    def __str__(self) -> str:
        return self.serial
