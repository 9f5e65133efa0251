from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext as _

from shequn.catalog.kinds import ProductKind

from .enums import Fulfilment, OrderStatus, PaymentMethod, RefundStatus


class CartItem(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cart_items")
    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()
    # Where the member found it, kept for attribution on the order.
    post = models.ForeignKey("communities.Post", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    article = models.ForeignKey("content.Article", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "sku"], name="unique_cart_line"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="cart_quantity_positive"),
        ]


class Order(models.Model):
    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="orders")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    # Readable and a valid WeChat out_trade_no (see core.ids).
    number = models.CharField(max_length=32, unique=True)
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.PENDING_PAYMENT)
    # What the order buys: goods, or one non-goods kind (see catalog.kinds); never mixed.
    kind = models.CharField(max_length=12, choices=ProductKind.choices, default=ProductKind.GOODS)
    fulfilment = models.CharField(max_length=10, choices=Fulfilment.choices)
    payment_method = models.CharField(max_length=10, choices=PaymentMethod.choices)
    # Delivery address, copied at checkout so later edits of the address book change nothing.
    recipient = models.CharField(max_length=32, blank=True)
    recipient_phone = models.CharField(max_length=20, blank=True)
    province = models.CharField(max_length=32, blank=True)
    city = models.CharField(max_length=32, blank=True)
    district = models.CharField(max_length=32, blank=True)
    address_detail = models.CharField(max_length=200, blank=True)
    pickup_point = models.ForeignKey(
        "shops.PickupPoint", null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    buyer_note = models.CharField(max_length=200, blank=True)
    # The delivery slot chosen at checkout, its date and label copied so the order reads the same
    # whatever later happens to the slot (ADR 0007). Its place is given back with the stock.
    delivery_slot = models.ForeignKey(
        "shops.DeliverySlot", null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    delivery_slot_date = models.DateField(null=True, blank=True)
    delivery_slot_label = models.CharField(max_length=40, blank=True)
    items_total_fen = models.PositiveIntegerField()
    shipping_fee_fen = models.PositiveIntegerField(default=0)
    # The coupon applied at checkout (one per order) and what it took off the goods.
    coupon = models.ForeignKey(
        "coupons.MemberCoupon", null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    discount_fen = models.PositiveIntegerField(default=0)
    # Member-card points spent at checkout (loyalty), and the fen they took off: part of
    # discount_fen and of the lines' discounts (split after the coupon, by largest remainder).
    points_used = models.PositiveIntegerField(default=0)
    points_fen = models.PositiveIntegerField(default=0)
    total_fen = models.PositiveIntegerField()  # what the member pays: items - discount + shipping
    refunded_fen = models.PositiveIntegerField(default=0)  # confirmed by the gateway
    # Attribution: the community and post the member bought from.
    community = models.ForeignKey(
        "communities.Community",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
    )
    post = models.ForeignKey(
        "communities.Post", null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    # Reading → buying: the article whose product card the member bought from.
    article = models.ForeignKey(
        "content.Article", null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    expires_at = models.DateTimeField(null=True, blank=True)  # unpaid deadline (None for COD)
    # Why the goods must not be handed over yet (a team or a campaign still forming); "" = free
    # to fulfil. Set at creation by the app that made the order, cleared by it (release_hold).
    hold_reason = models.CharField(max_length=60, blank=True)
    stock_released = models.BooleanField(default=False)  # set once, when close/cancel returns the stock
    tracking_company = models.CharField(max_length=32, blank=True)
    tracking_number = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)  # or picked up
    completed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)  # closed or cancelled

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["shop", "status", "-created_at"]),
            models.Index(fields=["status", "expires_at"]),
            # The console's order list (newest first) and its date counts; the dashboard's paid sums;
            # a member's order list. Without them SQLite sorts all of a shop's orders per page.
            models.Index(fields=["shop", "-created_at", "-id"], name="order_shop_newest"),
            models.Index(fields=["shop", "paid_at"], name="order_shop_paid"),
            models.Index(fields=["user", "-created_at", "-id"], name="order_user_newest"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_fen=F("items_total_fen") - F("discount_fen") + F("shipping_fee_fen")),
                name="order_total_is_items_less_discount_plus_shipping",
            ),
            models.CheckConstraint(condition=Q(refunded_fen__lte=F("total_fen")), name="order_refund_not_above_total"),
            models.CheckConstraint(condition=Q(points_fen__lte=F("discount_fen")), name="order_points_within_discount"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def address_text(self) -> str:
        # Municipalities (上海市) are both province and city: say it once.
        city = "" if self.city == self.province else self.city
        return " ".join(part for part in (self.province, city, self.district, self.address_detail) if part)

    @property
    def coupon_discount_fen(self) -> int:
        """What the coupon took off (discount_fen also holds what points took)."""
        return self.discount_fen - self.points_fen

    @property
    def is_cod(self) -> bool:
        return self.payment_method == PaymentMethod.COD


class OrderLine(models.Model):
    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    # Snapshot at checkout.
    title = models.CharField(max_length=120)
    spec = models.CharField(max_length=64)
    unit_price_fen = models.PositiveIntegerField()
    quantity = models.PositiveIntegerField()
    total_fen = models.PositiveIntegerField()
    # The order's coupon discount split over its lines (largest remainder), and what was paid for
    # the line: refunds and commission go by what was paid.
    discount_fen = models.PositiveIntegerField(default=0)
    paid_fen = models.PositiveIntegerField()
    returnable = models.BooleanField()
    refunded_fen = models.PositiveIntegerField(default=0)  # confirmed by the gateway
    # Sold by weight (catalog.weights), snapshot at checkout; all None for a line priced per piece.
    weight_unit_grams = models.PositiveIntegerField(null=True, blank=True)  # 500 (斤) or 1000 (公斤)
    weight_price_fen = models.PositiveIntegerField(null=True, blank=True)  # per weight unit
    estimated_grams = models.PositiveIntegerField(null=True, blank=True)  # per piece, as paid for
    actual_grams = models.PositiveIntegerField(null=True, blank=True)  # the whole line, weighed at packing
    # Weight-difference refunds issued on this line (requested, approved or done).
    weight_refund_fen = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_fen=F("unit_price_fen") * F("quantity")),
                name="line_total_is_price_times_quantity",
            ),
            models.CheckConstraint(
                condition=Q(paid_fen=F("total_fen") - F("discount_fen")), name="line_paid_is_total_less_discount"
            ),
            models.CheckConstraint(condition=Q(refunded_fen__lte=F("paid_fen")), name="line_refund_not_above_paid"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(weight_refund_fen__lte=F("paid_fen")), name="line_weight_refund_not_above_paid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} {self.spec} ×{self.quantity}"


class OrderEvent(models.Model):
    """Append-only history of an order and its after-sales: one row per transition."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    refund = models.ForeignKey("RefundRequest", null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    @property
    def label(self) -> str:
        """What the timeline shows: the new order status, or the refund's new status."""
        if self.refund_id:
            return _("售后%(label)s") % {"label": RefundStatus(self.to_status).label}
        return str(OrderStatus(self.to_status).label)


class RefundRequest(models.Model):
    """After-sales for one order line: full or partial refund."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="refunds")
    # Our refund number; also WeChat's out_refund_no, so the same number refunds once.
    number = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=12, choices=RefundStatus.choices, default=RefundStatus.REQUESTED)
    amount_fen = models.PositiveIntegerField()
    reason = models.CharField(max_length=200)
    reject_reason = models.CharField(max_length=200, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount_fen__gt=0), name="refund_amount_positive")]

    def __str__(self) -> str:
        return self.number


class PurchaseCounter(models.Model):
    """Units of a product one member holds in live orders; enforces the per-person cap with F() updates."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "product"], name="unique_purchase_counter")]
