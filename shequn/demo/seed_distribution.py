"""Demo referral distribution (分销) and wallets, all through the real actions.

- Settings: enabled, operator approval, two tiers, first touch, 30 days; a shop-wide rule
  (10% tier 1, 3% tier 2), a product override (¥5/件 tier 1, ¥1/件 tier 2) and one level
  (金牌推广员: ¥500 own settled sales, +2 points).
- Promoters among the members (never staff), by phone: the first (13900000001, the member the
  `make run` banner suggests signing in as) and the second approved, the second bound to the
  first through their link (so the first sees a team); the third applied and waits for the
  operator.
- Customers who arrived through a promoter link, each bound by the visit and paying through the
  sandbox gateway: the commission is frozen by the orders signals. One order (the override
  product, two units) is picked up, its history moved back past the after-sales window, then
  completed by ``orders.actions.auto_complete_orders`` and settled by
  ``commissions.settle_completed``: the first promoter's commission becomes available.
- The first promoter asks to withdraw part of it: a request waiting for finance (one approver).

Each step is skipped when its part is there, so a second seed changes nothing.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import F, Q
from django.urls import reverse

from shequn.accounts.models import Address, User
from shequn.catalog.kinds import ProductKind
from shequn.catalog.models import Sku
from shequn.distribution import actions as distribution
from shequn.distribution.commissions import settle_completed
from shequn.distribution.enums import Attribution, RuleKind, RuleScope
from shequn.distribution.models import Commission, CommissionRule, DistributionSettings, Promoter, PromoterLevel
from shequn.notifications.models import Notification
from shequn.orders import actions as orders
from shequn.orders.enums import Fulfilment, OrderStatus, PaymentMethod
from shequn.orders.models import Order, OrderEvent
from shequn.payments.models import Payment
from shequn.shops.models import PickupPoint, Shop, StaffMember
from shequn.wallets import actions as wallets
from shequn.wallets.models import Withdrawal

from .seed_orders import _pay_online

OVERRIDE_TITLE = "千岛湖有机鱼头（胖头鱼）"  # the product with a fixed commission, when the shop has it
SHOP_RULE = (1000, 300)  # basis points: 10% tier 1, 3% tier 2
OVERRIDE_RULE = (500, 100)  # fen per unit: ¥5/件 tier 1, ¥1/件 tier 2
LEVEL = ("金牌推广员", 50_000, 200)  # name, own settled sales (fen), extra basis points
WITHDRAWAL_FEN = 500  # ¥5: well under the second-approval amount
PAST_DAYS = 10  # the completed order was picked up this long ago (window: 7 days)
MEMBERS_NEEDED = 6  # 2 approved promoters, 1 applicant, 3 customers


@dataclass
class DistributionSeed:
    promoters: list[Promoter]  # the two approved ones, upline first
    applicant: Promoter
    orders: list[Order]
    withdrawal: Withdrawal | None


def _members(shop: Shop) -> list[User]:
    """Members who sign in by phone, in phone order (the demo's 13900000001 first); never staff."""
    staff_ids = StaffMember.objects.filter(shop=shop).values_list("user_id", flat=True)
    return list(
        User.objects.filter(Q(phone__isnull=False) & ~Q(phone=""), is_staff=False, is_active=True)
        .exclude(pk__in=staff_ids)
        .order_by("phone")[:MEMBERS_NEEDED]
    )


def _skus(shop: Shop) -> list[Sku]:
    """Two goods SKUs on the shelf without a per-person cap, from two products: the override
    product's cheapest first (the named one when the shop has it), then another product's."""
    rows = list(
        Sku.objects.filter(
            shop=shop,
            is_active=True,
            stock__gte=5,
            price_fen__gte=1000,
            product__shop=shop,
            product__kind=ProductKind.GOODS,
            product__on_shelf=True,
            product__per_person_cap__isnull=True,
        )
        .select_related("product")
        .order_by("product__position", "product_id", "price_fen", "id")
    )
    cheapest: dict[int, Sku] = {}
    for sku in rows:
        cheapest.setdefault(sku.product_id, sku)
    picked = list(cheapest.values())
    named = [sku for sku in picked if sku.product.title == OVERRIDE_TITLE]
    if named:
        picked = named + [sku for sku in picked if sku.pk != named[0].pk]
    return picked[:2]


def _configure(shop: Shop, actor: Any, override_sku: Sku) -> None:
    if not DistributionSettings.objects.filter(shop=shop).exists():
        distribution.do_update_settings(
            actor,
            shop,
            {
                "enabled": True,
                "auto_approve": False,
                "tiers": 2,
                "attribution": Attribution.FIRST_TOUCH,
                "binding_days": 30,
            },
        )
    if not CommissionRule.objects.filter(shop=shop).exists():
        distribution.do_save_rule(
            actor,
            shop,
            {
                "scope": RuleScope.SHOP,
                "kind": RuleKind.PERCENT,
                "tier1_value": SHOP_RULE[0],
                "tier2_value": SHOP_RULE[1],
            },
        )
        distribution.do_save_rule(
            actor,
            shop,
            {
                "scope": RuleScope.PRODUCT,
                "product_id": override_sku.product_id,
                "kind": RuleKind.FIXED,
                "tier1_value": OVERRIDE_RULE[0],
                "tier2_value": OVERRIDE_RULE[1],
            },
        )
    if not PromoterLevel.objects.filter(shop=shop).exists():
        name, threshold, extra = LEVEL
        distribution.do_save_level(actor, shop, name=name, min_sales_fen=threshold, extra_bp=extra)


def _visit(promoter: Promoter, visitor: User, target: str, n: int) -> None:
    """``visitor`` opens ``promoter``'s link to ``target`` while signed in: a visit and a binding."""
    device = distribution.device_hash(f"192.0.2.{n}", "Mozilla/5.0 (iPhone; demo) MicroMessenger/8.0")
    distribution.record_visit(promoter.code, visitor, device=device, target=target)


def _promoters(shop: Shop, actor: Any, members: list[User]) -> tuple[list[Promoter], Promoter]:
    upline_user, downline_user, applicant_user = members[:3]
    existing = {p.user_id: p for p in Promoter.objects.filter(shop=shop)}
    if upline_user.pk in existing:
        approved = [existing[upline_user.pk], existing[downline_user.pk]]
        return approved, existing[applicant_user.pk]
    home = reverse("catalog:shop_home", args=[shop.slug])
    upline = distribution.do_decide(actor, shop, distribution.do_apply(upline_user, shop), approve=True)
    # The second promoter came through the first one's link, then applied: their upline.
    _visit(upline, downline_user, home, 1)
    downline = distribution.do_decide(actor, shop, distribution.do_apply(downline_user, shop), approve=True)
    applicant = distribution.do_apply(applicant_user, shop)
    return [upline, downline], applicant


def _destination(shop: Shop, user: User) -> dict[str, Any]:
    point = PickupPoint.objects.filter(shop=shop, is_active=True).order_by("pk").first()
    if point is not None:
        return {"fulfilment": Fulfilment.PICKUP, "pickup_point_id": point.pk}
    address = Address.objects.filter(user=user).order_by("-is_default", "pk").first()
    if address is None:
        address = Address.objects.create(
            user=user,
            recipient=user.nickname or "顾客",
            phone=user.phone or "",
            province_code="330000",
            province="浙江省",
            city_code="330100",
            city="杭州市",
            district_code="330108",
            district="滨江区",
            detail="江南大道 228 号",
            is_default=True,
        )
    return {"fulfilment": Fulfilment.DELIVERY, "address_id": address.pk}


def _buy(shop: Shop, promoter: Promoter, customer: User, sku: Sku, quantity: int, n: int) -> Order:
    """The customer opens the promoter's product link (bound), buys and pays through the sandbox."""
    _visit(promoter, customer, reverse("catalog:product_detail", args=[shop.slug, sku.product_id]), n)
    order = orders.create_order(
        customer,
        sku_id=sku.pk,
        quantity=quantity,
        payment_method=PaymentMethod.SANDBOX,
        **_destination(shop, customer),
    )
    _pay_online(order, customer)
    order.refresh_from_db()
    return order


def _hand_over(shop: Shop, actor: Any, order: Order) -> None:
    if order.fulfilment == Fulfilment.PICKUP:
        orders.mark_ready_for_pickup(shop, order.pk, actor)
        orders.mark_picked_up(shop, order.pk, actor)
    else:
        orders.ship_order(shop, order.pk, actor, tracking_company="顺丰速运", tracking_number="SF100000000001")
        orders.mark_delivered(shop, order.pk, actor)


def _move_back(order: Order, days: int) -> None:
    """The order's whole history, ``days`` earlier (as the past demo orders are spread back)."""
    shift = timedelta(days=days)
    order.refresh_from_db()
    stamps = {
        name: F(name) - shift
        for name in ("created_at", "expires_at", "paid_at", "shipped_at", "delivered_at")
        if getattr(order, name) is not None
    }
    Order.objects.filter(pk=order.pk).update(**stamps)
    OrderEvent.objects.filter(order=order).update(created_at=F("created_at") - shift)
    Payment.objects.filter(order=order).update(created_at=F("created_at") - shift)
    Payment.objects.filter(order=order, succeeded_at__isnull=False).update(succeeded_at=F("succeeded_at") - shift)
    Notification.objects.filter(user_id=order.user_id, link__contains=order.number).update(
        created_at=F("created_at") - shift
    )


def _align_inbox(order: Order) -> None:
    """The buyer's messages about ``order`` carry the time of their step (支付成功 the time the
    gateway reported), as the past demo orders' do."""
    order.refresh_from_db()
    steps = {event.to_status: event.created_at for event in OrderEvent.objects.filter(order=order)}
    if order.paid_at is not None:
        steps["paid"] = order.paid_at
    messages = list(Notification.objects.filter(user_id=order.user_id, link__contains=order.number))
    for message in messages:
        message.created_at = steps.get(message.kind.partition(".")[2], message.created_at)
    Notification.objects.bulk_update(messages, ["created_at"])


def _orders(shop: Shop, actor: Any, promoters: list[Promoter], customers: list[User], skus: list[Sku]) -> list[Order]:
    if Commission.objects.filter(shop=shop).exists():
        return list(Order.objects.filter(pk__in=Commission.objects.filter(shop=shop).values("order_id")).order_by("pk"))
    upline, downline = promoters
    override, regular = skus
    # Tier 1 to the upline at ¥5/件: handed over, past the window, completed, settled.
    settled = _buy(shop, upline, customers[0], override, 2, 2)
    _hand_over(shop, actor, settled)
    _move_back(settled, PAST_DAYS)
    orders.auto_complete_orders()
    settle_completed()
    # Tier 1 to the upline at 10%, frozen (inside the after-sales window).
    frozen = _buy(shop, upline, customers[1], regular, 1, 3)
    # Tier 1 (10%) to the downline and tier 2 (3%) to the upline, frozen.
    team = _buy(shop, downline, customers[2], regular, 1, 4)
    made = [settled, frozen, team]
    for order in made:
        _align_inbox(order)
    return made


def _withdrawal(shop: Shop, holder: User) -> Withdrawal | None:
    existing = Withdrawal.objects.filter(shop=shop, holder=holder).order_by("pk").first()
    if existing is not None or Withdrawal.objects.filter(shop=shop).exists():
        return existing
    return wallets.request_withdrawal(shop, holder, WITHDRAWAL_FEN)


def seed_distribution(shop: Shop, staff_user: Any) -> DistributionSeed | None:
    """Seed (once) the demo's distribution and wallets; None without enough members or goods."""
    members = _members(shop)
    skus = _skus(shop)
    if len(members) < MEMBERS_NEEDED or len(skus) < 2:
        return None
    _configure(shop, staff_user, skus[0])
    promoters, applicant = _promoters(shop, staff_user, members)
    made = _orders(shop, staff_user, promoters, members[3:], skus)
    completed = [o for o in made if Order.objects.filter(pk=o.pk, status=OrderStatus.COMPLETED).exists()]
    withdrawal = _withdrawal(shop, promoters[0].user) if completed else None
    return DistributionSeed(promoters=promoters, applicant=applicant, orders=made, withdrawal=withdrawal)


def is_seeded(shop: Shop) -> bool:
    return Withdrawal.objects.filter(shop=shop).exists() and Promoter.objects.filter(shop=shop).exists()
