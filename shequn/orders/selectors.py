"""Reads for orders. Staff reads take the shop; member reads take the member. Foreign ids are 404."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.catalog.kinds import is_goods, rules_for
from shequn.catalog.models import Product
from shequn.catalog.weights import pending_weight_refunds_fen
from shequn.communities.models import Community
from shequn.core.models import AuditLog
from shequn.shops.models import Shop

from .enums import PAID_STATUSES, OrderStatus, RefundStatus
from .errors import CartItemNotFound, OrderNotFound, RefundNotFound
from .models import CartItem, Order, OrderEvent, OrderLine, RefundRequest

# Refund requests that still hold part of a line's refundable amount.
OPEN_REFUND_STATUSES = (RefundStatus.REQUESTED, RefundStatus.APPROVED)


def access_order(shop: Shop, order_id: int, *, lock: bool = False) -> Order:
    """An order of ``shop`` (locked when asked); another shop's id looks missing."""
    rows = Order.objects.select_for_update() if lock else Order.objects.select_related("pickup_point", "user")
    order = rows.filter(shop=shop, pk=order_id).first()
    if order is None:
        raise OrderNotFound(_("订单不存在"))
    return order


def access_member_order(user: Any, number: str, *, lock: bool = False) -> Order:
    """The member's own order by number; someone else's number looks missing."""
    if not getattr(user, "is_authenticated", False):
        raise OrderNotFound(_("订单不存在"))
    rows = Order.objects.select_for_update() if lock else Order.objects.select_related("pickup_point", "shop")
    order = rows.filter(user=user, number=number).first()
    if order is None:
        raise OrderNotFound(_("订单不存在"))
    return order


def access_refund(shop: Shop, refund_id: int, *, lock: bool = False) -> RefundRequest:
    rows = RefundRequest.objects.select_for_update() if lock else RefundRequest.objects.select_related("order", "line")
    refund = rows.filter(shop=shop, pk=refund_id).first()
    if refund is None:
        raise RefundNotFound(_("售后申请不存在"))
    return refund


def access_cart_item(user: Any, item_id: int) -> CartItem:
    item = CartItem.objects.filter(user=user, pk=item_id).select_related("sku__product", "shop").first()
    if item is None:
        raise CartItemNotFound(_("购物车中没有这件商品"))
    return item


def order_for_payment(out_trade_no: str) -> Order:
    """The order paid under ``out_trade_no``, locked for the caller's transaction (payments app)."""
    order = Order.objects.select_for_update().filter(number=out_trade_no).first()
    if order is None:
        raise OrderNotFound(_("订单不存在"))
    return order


def landing_url(order: Order) -> str | None:
    """Where a paid order of a non-goods kind takes the member (the community, the course)."""
    if is_goods(order.kind) or order.paid_at is None:
        return None
    return rules_for(order.kind).landing_url(order)


def after_payment_url(number: str) -> str:
    """Where the member returns from the cashier: what they paid for, else the order page."""
    order = Order.objects.filter(number=number).first()
    landing = landing_url(order) if order is not None else None
    return landing or reverse("orders:order_detail", args=[number])


def bought_product(user: Any, product_id: int, since: datetime, until: datetime) -> bool:
    """Whether the member paid, between ``since`` and ``until``, for an order that still stands with
    a line of the product not refunded in full (a purchase condition: lotteries, red packets)."""
    return OrderLine.objects.filter(
        order__user=user,
        order__status__in=PAID_STATUSES,
        order__paid_at__gte=since,
        order__paid_at__lt=until,
        sku__product_id=product_id,
        refunded_fen__lt=F("paid_fen"),
    ).exists()


# A promotion "drives" the orders its participants place within this many days after taking part.
DRIVEN_DAYS = 7


@dataclass(frozen=True)
class Driven:
    orders: int  # paid orders with goods paid for, not refunded in full
    sales_fen: int  # what those orders' buyers paid, net of refunds


def driven_orders(shop: Shop, participations: QuerySet[Any], *, group: str, member: str) -> dict[int, Driven]:
    """The orders and sales promotions drove, in one query for many promotions: for each value of
    ``group`` in ``participations`` (one row per member and promotion: a red-packet grab, a lottery
    entry or first spin; ``member`` names its member, ``created_at`` when they took part), the
    member's orders at ``shop`` placed from that moment to ``DRIVEN_DAYS`` days later, paid, with
    goods paid for (a prize's zero-price order is not one) and not refunded in full."""
    orders = (
        Order.objects.filter(
            shop=shop,
            user_id=OuterRef(member),
            paid_at__isnull=False,
            items_total_fen__gt=0,
            created_at__gte=OuterRef("created_at"),
            created_at__lt=OuterRef("created_at") + timedelta(days=DRIVEN_DAYS),
            refunded_fen__lt=F("total_fen") - F("shipping_fee_fen"),
        )
        .order_by()
        .values("user_id")
    )
    count = orders.annotate(count=Count("pk")).values("count")
    sales = orders.annotate(sales=Sum(F("total_fen") - F("refunded_fen"))).values("sales")
    rows = (
        participations.order_by()
        .values(group)
        .annotate(
            orders=Sum(Coalesce(Subquery(count, output_field=IntegerField()), 0)),
            sales=Sum(Coalesce(Subquery(sales, output_field=IntegerField()), 0)),
        )
        .values_list(group, "orders", "sales")
    )
    return {key: Driven(orders=orders or 0, sales_fen=sales or 0) for key, orders, sales in rows}


def order_lines(order: Order) -> list[Any]:
    return list(order.lines.all())


def order_timeline(order: Order) -> QuerySet[OrderEvent]:
    return order.events.select_related("refund", "actor").order_by("created_at", "id")


def order_refunds(order: Order) -> QuerySet[RefundRequest]:
    return order.refunds.select_related("line").order_by("-created_at", "-id")


def weighing_open(order: Order) -> bool:
    """Whether staff may record weights on the order now: it holds money or will (COD), and is
    neither completed (only after-sales moves money then), cancelled nor closed."""
    if order.status in (OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.CLOSED):
        return False
    return order.paid_at is not None or order.is_cod


def cod_to_collect_fen(order: Order, lines: Iterable[Any]) -> int | None:
    """Cash to collect for an unpaid COD order: its total less weight differences owed back
    (recorded as a payment of the total and an immediate cash refund when confirmed). None
    when there is no cash to collect."""
    if not order.is_cod or order.paid_at is not None:
        return None
    return order.total_fen - pending_weight_refunds_fen(lines)


def refundable_left_fen(line: Any) -> int:
    """What may still be asked back on ``line``: what was paid for it (its total less its share of
    the coupon) minus refunded and open requests."""
    open_fen = (
        RefundRequest.objects.filter(line=line, status__in=OPEN_REFUND_STATUSES).aggregate(s=Sum("amount_fen"))["s"]
        or 0
    )
    return max(0, line.paid_fen - line.refunded_fen - open_fen)


# --- members --------------------------------------------------------------------------

MEMBER_TABS: dict[str, tuple[str, ...]] = {
    "pending": (OrderStatus.PENDING_PAYMENT,),
    "to_ship": (OrderStatus.PAID,),
    "to_receive": (OrderStatus.SHIPPED, OrderStatus.READY_FOR_PICKUP),
    "done": (OrderStatus.DELIVERED, OrderStatus.PICKED_UP, OrderStatus.COMPLETED),
    "closed": (OrderStatus.CANCELLED, OrderStatus.CLOSED),
}


def member_orders(user: Any, tab: str | None = None) -> QuerySet[Order]:
    rows = Order.objects.filter(user=user).select_related("shop").prefetch_related("lines")
    if tab in MEMBER_TABS:
        rows = rows.filter(status__in=MEMBER_TABS[tab])
    return rows.order_by("-created_at", "-id")


def member_refunds(user: Any) -> QuerySet[RefundRequest]:
    return RefundRequest.objects.filter(order__user=user).select_related("order", "line").order_by("-created_at", "-id")


@dataclass
class CartGroup:
    shop: Shop
    items: list[CartItem] = field(default_factory=list)
    # The items at the price checkout charges, in the same order: ``actions.PlannedLine``s set
    # by ``actions.priced_cart`` (the checkout's own pricing), never computed here.
    prices: list[Any] = field(default_factory=list)

    @property
    def rows(self) -> list[tuple[CartItem, Any]]:
        return list(zip(self.items, self.prices, strict=True))

    @property
    def subtotal_fen(self) -> int:
        return sum(line.total_fen for line in self.prices)


def cart_items(user: Any) -> QuerySet[CartItem]:
    return CartItem.objects.filter(user=user).select_related("shop", "sku__product", "post").order_by("added_at", "id")


def cart_groups(user: Any) -> list[CartGroup]:
    """The member's cart grouped by shop (one checkout per shop), not priced: see ``actions.priced_cart``."""
    groups: dict[int, CartGroup] = {}
    for item in cart_items(user):
        groups.setdefault(item.shop_id, CartGroup(shop=item.shop)).items.append(item)
    return list(groups.values())


# --- console --------------------------------------------------------------------------


def staff_orders(
    shop: Shop,
    *,
    status: str | None = None,
    fulfilment: str | None = None,
    payment_method: str | None = None,
    search: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    delivery_slot_id: int | None = None,
    after: int | None = None,
) -> QuerySet[Order]:
    """The shop's orders, newest first, with the console's filters (dates are local days, inclusive).

    ``after``: only the orders listed after that order of the shop (keyset paging: a page is read
    straight from the ``(shop, -created_at, -id)`` index wherever it is, with no OFFSET and no count
    of the shop's orders); an unknown id leaves nothing."""
    rows = Order.objects.filter(shop=shop).select_related("user", "pickup_point")
    if after is not None:
        placed = Subquery(Order.objects.filter(shop=shop, pk=after).values("created_at")[:1])
        rows = rows.filter(Q(created_at__lt=placed) | Q(created_at=placed, pk__lt=after), created_at__lte=placed)
    if delivery_slot_id:
        rows = rows.filter(delivery_slot_id=delivery_slot_id)
    if status:
        rows = rows.filter(status=status)
    if fulfilment:
        rows = rows.filter(fulfilment=fulfilment)
    if payment_method:
        rows = rows.filter(payment_method=payment_method)
    if search:
        term = search.strip()
        rows = rows.filter(
            Q(number__icontains=term) | Q(recipient_phone__contains=term) | Q(user__phone__contains=term)
        )
    if date_from:
        rows = rows.filter(created_at__gte=_local_midnight(date_from))
    if date_to:
        rows = rows.filter(created_at__lt=_local_midnight(date_to + timedelta(days=1)))
    return rows.order_by("-created_at", "-id")


def shop_refunds(shop: Shop, *, status: str | None = None) -> QuerySet[RefundRequest]:
    rows = RefundRequest.objects.filter(shop=shop).select_related("order", "line", "requested_by")
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("-created_at", "-id")


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def todays_figures(shop: Shop) -> dict[str, int]:
    """Today (local day): orders placed, orders paid and their total in fen (gross, before refunds)."""
    start = _local_midnight(timezone.localdate())
    end = start + timedelta(days=1)
    orders = Order.objects.filter(shop=shop, created_at__gte=start, created_at__lt=end).count()
    paid = Order.objects.filter(shop=shop, paid_at__gte=start, paid_at__lt=end).aggregate(
        count=Count("pk"), total=Sum("total_fen")
    )
    return {
        "orders": orders,
        "paid_orders": paid["count"],
        "paid_sales_fen": paid["total"] or 0,
        "to_ship": Order.objects.filter(shop=shop, status=OrderStatus.PAID).count(),
        "open_refunds": RefundRequest.objects.filter(shop=shop, status=RefundStatus.REQUESTED).count(),
    }


def expired_unpaid_orders(now: datetime | None = None) -> QuerySet[Order]:
    return Order.objects.filter(
        status=OrderStatus.PENDING_PAYMENT, expires_at__isnull=False, expires_at__lte=now or timezone.now()
    ).order_by("expires_at", "id")


# --- the first-run guide on the console home ---------------------------------------------------


@dataclass(frozen=True)
class GuideStep:
    label: str
    done: bool
    url_name: str  # where the owner does it
    hint: str


def first_run_guide(shop: Shop) -> list[GuideStep]:
    """What a new shop still has to do before members can buy, each step ticked by the data itself
    (one query): a community, a product, and the payment set-up, which counts as done once the
    payment options were saved in the shop settings or an order has been paid (payment works).
    It lives here, beside the console home's other figures."""
    done = (
        Shop.objects.filter(pk=shop.pk)
        .annotate(
            community=Exists(Community.objects.filter(shop=shop)),
            product=Exists(Product.objects.filter(shop=shop)),
            settings_saved=Exists(AuditLog.objects.filter(shop=shop, action="shop.update_settings")),
            paid=Exists(Order.objects.filter(shop=shop, paid_at__isnull=False)),
        )
        .values("community", "product", "settings_saved", "paid")
        .get()
    )
    return [
        GuideStep(
            _("创建第一个社群"),
            bool(done["community"]),
            "communities:console_communities",
            _("会员在社群里看到你的商品和活动"),
        ),
        GuideStep(_("上架第一件商品"), bool(done["product"]), "catalog:console_product_new", _("填写价格、库存和图片")),
        GuideStep(
            _("完成支付设置"),
            bool(done["settings_saved"] or done["paid"]),
            "shops:console_settings",
            _("确认在线支付与货到付款、运费规则并保存"),
        ),
    ]
