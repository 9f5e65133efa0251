"""Every write of prepaid packages. ``check_*`` validates, ``do_*`` changes data.

A package is bought through the ordinary checkout (product kind ``package``, ``rules.PackageRules``);
each redemption draws portions with one conditional ``F()`` UPDATE (the authority: two counters
drawing the last portion at once, one succeeds) and creates a zero-payment goods order in the same
transaction (``orders.actions.do_create_prepaid_order``). Every movement of portions and value is a
``PackageEntry``; the package row's ``portions_left``/``value_left_fen`` are their running sums.
Lock order: package row, then the buyer's account and the order rows (orders' own order), SKUs last.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.catalog.actions import save_kind_product
from shequn.catalog.kinds import ProductKind, is_goods
from shequn.catalog.models import Sku
from shequn.core import audit
from shequn.core.errors import DomainError
from shequn.core.money import MAX_FEN, split_by_weights
from shequn.core.money import format_fen as _yuan
from shequn.gifts import actions as gift_actions
from shequn.gifts.models import Gift
from shequn.orders import actions as order_actions
from shequn.orders.enums import Fulfilment
from shequn.orders.models import Order, OrderLine, RefundRequest
from shequn.shops.models import Shop

from .enums import Channel, EntryKind, PackageStatus, RefundRule
from .errors import PackageInvalid, PackageNotRedeemable, PackageNotRefundable, PortionsShort
from .models import MemberPackage, PackageEntry, PackagePlan

MAX_PORTIONS = 9_999
MAX_VALIDITY_DAYS = 3_650
MAX_STOCK = 100_000


@dataclass
class PlanInput:
    title: str
    item_sku_id: int
    portions: int
    price_fen: int
    validity_days: int
    stock: int
    shipping_included: bool = True
    refund_rule: str = RefundRule.PRO_RATA
    description: str = ""
    on_sale: bool = True


def _invalid(message: str, field: str) -> PackageInvalid:
    return PackageInvalid(message, details={"field": field})


def check_plan(shop: Shop, data: PlanInput, *, plan: PackagePlan | None = None) -> Sku:
    """The rules of a package; returns its item (a goods SKU of ``shop``)."""
    data.title = (data.title or "").strip()
    if not data.title or len(data.title) > 60:
        raise _invalid(_("请填写套餐名称（最多 60 个字）"), "title")
    item = Sku.objects.select_related("product").filter(pk=data.item_sku_id, shop=shop).first()
    if item is None or not is_goods(item.product.kind):
        raise _invalid(_("请选择本店的一件实物商品作为兑换内容"), "item_sku_id")
    if not 1 <= data.portions <= MAX_PORTIONS:
        raise _invalid(_("份数应在 1 到 %(max)s 之间") % {"max": MAX_PORTIONS}, "portions")
    if not 1 <= data.price_fen <= MAX_FEN:
        raise _invalid(_("请填写套餐价格"), "price_fen")
    if not 1 <= data.validity_days <= MAX_VALIDITY_DAYS:
        raise _invalid(_("有效期应在 1 到 %(max)s 天之间") % {"max": MAX_VALIDITY_DAYS}, "validity_days")
    if not 0 <= data.stock <= MAX_STOCK:
        raise _invalid(_("库存应在 0 到 %(max)s 之间") % {"max": MAX_STOCK}, "stock")
    if data.refund_rule not in RefundRule.values:
        raise _invalid(_("请选择退款规则"), "refund_rule")
    if plan is not None and plan.packages.exists() and (plan.item_id, plan.portions) != (item.pk, data.portions):
        # Holders redeem the plan's item: what a sold package is worth must not change under them.
        raise _invalid(_("套餐已售出，不能再修改兑换商品和份数"), "portions")
    return item


def _save_product(shop: Shop, data: PlanInput, item: Sku, plan: PackagePlan | None) -> Any:
    spec = f"{data.portions} × {item.product.title} {item.spec}"[:64]
    return save_kind_product(
        shop,
        ProductKind.PACKAGE,
        data.title,
        [(spec, data.price_fen, data.stock)],
        product=plan.product if plan else None,
        on_shelf=data.on_sale,
    )


def do_save_plan(
    shop: Shop, data: PlanInput, *, actor: Any, plan: PackagePlan | None = None, ip: str | None = None
) -> PackagePlan:
    item = check_plan(shop, data, plan=plan)
    with transaction.atomic():
        product = _save_product(shop, data, item, plan)
        fields = {
            "title": data.title,
            "description": data.description.strip(),
            "item": item,
            "portions": data.portions,
            "price_fen": data.price_fen,
            "shipping_included": data.shipping_included,
            "validity_days": data.validity_days,
            "refund_rule": data.refund_rule,
        }
        if plan is None:
            plan = PackagePlan.objects.create(shop=shop, product=product, created_by=actor, **fields)
            action = "package.plan_created"
        else:
            PackagePlan.objects.filter(pk=plan.pk).update(**fields)
            plan.refresh_from_db()
            action = "package.plan_updated"
        audit.record(actor=actor, shop=shop, action=action, obj=plan, ip=ip, price_fen=data.price_fen, stock=data.stock)
    return plan


# --- purchase (called by rules.PackageRules inside the orders app's transactions) ---------


def value_left(paid_fen: int, portions_total: int, portions_left: int) -> int:
    """The unused portions' share of what was paid (largest remainder, so used + unused = paid)."""
    return split_by_weights(paid_fen, [portions_total - portions_left, portions_left])[1]


def plan_of_line(line: OrderLine) -> PackagePlan:
    return PackagePlan.objects.get(product_id=line.product_id)


def check_purchase(user: Any, sku: Any, quantity: int) -> None:
    """Refuse a package whose plan is gone or whose item was switched off."""
    plan = PackagePlan.objects.select_related("item").filter(product_id=sku.product_id).first()
    if plan is None or not plan.item.is_active:
        raise PackageNotRedeemable(_("这个套餐已停售"))


def grant(order: Order, line: OrderLine, *, now: datetime | None = None) -> None:
    """``order`` was paid: the buyer holds a package of the line's portions (a gift's package
    waits for its recipient). Once per line: the line is the package's one-to-one key."""
    now = now or timezone.now()
    plan = plan_of_line(line)
    portions = plan.portions * line.quantity
    package = MemberPackage.objects.create(
        shop_id=order.shop_id,
        plan=plan,
        owner_id=order.user_id,
        order_line=line,
        portions_total=portions,
        portions_left=portions,
        paid_fen=line.paid_fen,
        value_left_fen=line.paid_fen,
        shipping_included=plan.shipping_included,
        refund_rule=plan.refund_rule,
        expires_at=now + timedelta(days=plan.validity_days),
    )
    PackageEntry.objects.create(
        package=package,
        shop_id=order.shop_id,
        kind=EntryKind.BOUGHT,
        portions=portions,
        value_fen=line.paid_fen,
        order=order,
        actor_id=order.user_id,
    )
    if gift_actions.gift_paid(order, package.pk, now=now):
        MemberPackage.objects.filter(pk=package.pk).update(status=PackageStatus.GIFTING)


def refund_refusal(order: Any, line: Any) -> DomainError | None:
    """A package's money comes back only with its unused portions (``do_refund_unused``)."""
    return PackageNotRefundable(
        _("套餐卡请在「我的套餐卡」中申请退还未使用的份数"), code="package_refund_on_package_page"
    )


def landing_path(order: Order) -> str | None:
    package = MemberPackage.objects.filter(order_line__order=order).first()
    if package is None:
        return None
    if package.status == PackageStatus.GIFTING:
        return reverse("gifts:mine")  # bought for a friend: the claim link to send
    return reverse("packages:mine_detail", args=[package.pk])


# --- redemption ----------------------------------------------------------------------


def _refusal(package: MemberPackage, portions: int, now: datetime) -> DomainError:
    if package.status == PackageStatus.GIFTING:
        return PackageNotRedeemable(_("礼物还未被领取，暂不能兑换"))
    if package.status == PackageStatus.REFUNDED:
        return PackageNotRedeemable(_("套餐卡已退款"))
    if package.expires_at <= now:
        return PackageNotRedeemable(_("套餐卡已过期"), code="package_expired")
    return PortionsShort(
        _("剩余 %(left)s 份，不够兑换 %(portions)s 份") % {"left": package.portions_left, "portions": portions},
        details={"portions_left": package.portions_left},
    )


def redeem(
    actor: Any,
    package: MemberPackage,
    *,
    portions: int,
    fulfilment: str,
    channel: str,
    address_id: int | None = None,
    pickup_point_id: int | None = None,
    buyer_note: str = "",
    now: datetime | None = None,
) -> Order:
    """Draw ``portions`` of ``package`` into a zero-payment delivery or pickup order for its owner
    (asked by the owner, or by staff at the counter: ``channel``). The draw, the order, its stock and
    the ledger entry commit together or not at all."""
    now = now or timezone.now()
    if not 1 <= portions <= order_actions.MAX_LINE_QUANTITY:
        raise PortionsShort(
            _("每次兑换 1 到 %(max)s 份") % {"max": order_actions.MAX_LINE_QUANTITY}, code="package_portions_invalid"
        )
    if fulfilment == Fulfilment.DELIVERY and not package.shipping_included:
        raise PackageNotRedeemable(_("这个套餐不含配送，请选择到店自提"), code="package_pickup_only")
    plan = order_actions.check_checkout(
        package.owner,
        sku_id=package.plan.item_id,
        quantity=portions,
        fulfilment=fulfilment,
        payment_method="",
        address_id=address_id,
        pickup_point_id=pickup_point_id,
        buyer_note=buyer_note,
        prepaid=True,
    )
    with transaction.atomic():
        drawn = MemberPackage.objects.filter(
            pk=package.pk, status=PackageStatus.ACTIVE, expires_at__gt=now, portions_left__gte=portions
        ).update(portions_left=F("portions_left") - portions)
        package.refresh_from_db()
        if drawn != 1:
            raise _refusal(package, portions, now)
        # The UPDATE holds the row until commit: the value is computed from the left it wrote.
        new_value = value_left(package.paid_fen, package.portions_total, package.portions_left)
        drawn_value = package.value_left_fen - new_value
        MemberPackage.objects.filter(pk=package.pk).update(value_left_fen=new_value)
        package.value_left_fen = new_value
        note = _("套餐卡「%(title)s」兑换 %(portions)s 份") % {"title": package.plan.title, "portions": portions}
        order = order_actions.do_create_prepaid_order(plan, actor=actor, note=note)
        PackageEntry.objects.create(
            package=package,
            shop_id=package.shop_id,
            kind=EntryKind.REDEEMED,
            portions=-portions,
            value_fen=-drawn_value,
            order=order,
            channel=channel,
            actor=actor if getattr(actor, "pk", None) else None,
        )
        if channel == Channel.COUNTER:
            audit.record(actor=actor, shop=package.shop, action="package.redeemed", obj=package, portions=portions)
    return order


# --- refunds -------------------------------------------------------------------------


def _refund_left(package: MemberPackage, reason: str, *, actor: Any) -> RefundRequest | None:
    """Refund the unused portions' value to the buying order (the caller holds the package's row
    lock and checked the rule): one refund through the orders app, one entry zeroing the package."""
    order = (
        Order.objects.select_for_update(of=("self",)).select_related("user", "shop").get(pk=package.order_line.order_id)
    )
    amount = package.value_left_fen
    refund = (
        order_actions.refund_automatically(order, package.order_line, reason, amount_fen=amount) if amount else None
    )
    MemberPackage.objects.filter(pk=package.pk).update(portions_left=0, value_left_fen=0, status=PackageStatus.REFUNDED)
    PackageEntry.objects.create(
        package=package,
        shop_id=package.shop_id,
        kind=EntryKind.REFUNDED,
        portions=-package.portions_left,
        value_fen=-amount,
        order=order,
        refund=refund,
        actor=actor if getattr(actor, "pk", None) else None,
    )
    package.portions_left, package.value_left_fen, package.status = 0, 0, PackageStatus.REFUNDED
    return refund


def _lock(package: MemberPackage) -> MemberPackage:
    return (
        MemberPackage.objects.select_for_update(of=("self",))
        .select_related("plan", "order_line", "shop")
        .get(pk=package.pk)
    )


def do_refund_unused(user: Any, package: MemberPackage) -> RefundRequest | None:
    """The owner asks for the unused portions' money back (the package's rule: pro rata)."""
    with transaction.atomic():
        locked = _lock(package)
        if locked.owner_id != user.pk or locked.status != PackageStatus.ACTIVE or locked.portions_left == 0:
            raise PackageNotRefundable(_("这张套餐卡没有可退的份数"))
        if locked.refund_rule != RefundRule.PRO_RATA:
            raise PackageNotRefundable(_("这个套餐售出后不退款"), code="package_no_refund_rule")
        reason = _("退还未使用的 %(left)s 份（共 %(total)s 份），按比例退款 %(yuan)s") % {
            "left": locked.portions_left,
            "total": locked.portions_total,
            "yuan": _yuan(locked.value_left_fen),
        }
        refund = _refund_left(locked, reason, actor=user)
    package.refresh_from_db()
    return refund


def do_send_as_gift(user: Any, package: MemberPackage, *, message: str = "") -> Gift:
    """The buyer sends a package they hold (used or not) to a friend: it waits for the claim, and
    like any gift it is refunded (its unused value) when nobody claims it in time. A package received
    as a gift is not sent on (its money went back to whoever paid), nor one whose rule refunds nothing."""
    now = timezone.now()
    with transaction.atomic():
        locked = _lock(package)
        order = Order.objects.get(pk=locked.order_line.order_id)
        if locked.owner_id != user.pk or locked.status != PackageStatus.ACTIVE or locked.portions_left == 0:
            raise PackageNotRedeemable(_("这张套餐卡不能送出"), code="package_not_giftable")
        if locked.expires_at <= now:
            raise PackageNotRedeemable(_("套餐卡已过期"), code="package_expired")
        if order.user_id != user.pk:
            raise PackageNotRedeemable(_("收到的礼物不能再转送"), code="package_not_giftable")
        if locked.refund_rule != RefundRule.PRO_RATA:
            raise PackageNotRedeemable(_("这个套餐售出后不退款，不能送出"), code="package_not_giftable")
        MemberPackage.objects.filter(pk=locked.pk).update(status=PackageStatus.GIFTING)
        return gift_actions.do_open(user, order, kind=ProductKind.PACKAGE, subject_id=locked.pk, message=message)


def claim_gift(package_id: int, recipient: Any) -> None:
    """A gift's recipient claimed it (the gift's row locked): they hold the package now."""
    moved = MemberPackage.objects.filter(pk=package_id, status=PackageStatus.GIFTING).update(
        owner=recipient, status=PackageStatus.ACTIVE
    )
    if moved != 1:
        raise PackageNotRedeemable(_("礼物状态已变化，请刷新"))


def refund_gift(package_id: int) -> None:
    """Nobody claimed the gift in time: its buyer gets everything paid back."""
    locked = _lock(MemberPackage(pk=package_id))
    if locked.status == PackageStatus.GIFTING:
        _refund_left(locked, _("礼物超过领取期限未被领取，全额退款"), actor=None)
