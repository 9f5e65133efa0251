"""Demo prepaid packages and a gift (S10), made through the apps' own actions and paid through
the sandbox: a crayfish package (100 portions), bought by the first community's member with the
most orders, who redeemed 3 portions in two orders and sent a second package to a friend as a
gift (paid, its claim link open).

Skipped when the shop already has it, so a second seed changes nothing.
"""

from django.db.models import Count

from shequn.accounts.models import User
from shequn.catalog.kinds import ProductKind
from shequn.catalog.models import Sku
from shequn.communities.models import Community
from shequn.gifts import actions as gift_actions
from shequn.gifts.models import Gift
from shequn.orders import actions as order_actions
from shequn.orders.enums import Fulfilment, PaymentMethod
from shequn.orders.models import Order
from shequn.packages import actions, selectors
from shequn.packages.enums import Channel
from shequn.packages.models import PackagePlan
from shequn.shops.models import PickupPoint, Shop

from .seed_orders import _pay_online

PLAN_TITLE = "小龙虾 100 份预付套餐"


def _buyer(shop: Shop) -> User | None:
    """The member of the shop's first community with the most orders (whose pages the demo shows)."""
    community = Community.objects.filter(shop=shop).order_by("pk").first()
    orders = Order.objects.filter(shop=shop)
    if community is not None:
        orders = orders.filter(user__community_memberships__community=community)
    top = orders.values("user_id").annotate(n=Count("pk")).order_by("-n", "user_id").first()
    return User.objects.filter(pk=top["user_id"]).first() if top else None


def seed_packages(shop: Shop, operator: User) -> PackagePlan | None:
    if PackagePlan.objects.filter(shop=shop, title=PLAN_TITLE).exists():
        return None
    item = (
        Sku.objects.filter(
            shop=shop, is_active=True, product__kind=ProductKind.GOODS, product__title__contains="小龙虾"
        )
        .order_by("pk")
        .first()
    )
    buyer = _buyer(shop)
    point = PickupPoint.objects.filter(shop=shop, is_active=True).order_by("pk").first()
    if item is None or buyer is None or point is None:
        return None
    plan = actions.do_save_plan(
        shop,
        actions.PlanInput(
            title=PLAN_TITLE,
            item_sku_id=item.pk,
            portions=100,
            price_fen=800_000,
            validity_days=365,
            stock=50,
            description="50 位朋友每人预付 ¥8,000，100 份麻辣小龙虾，包邮，一年内分次兑换。",
        ),
        actor=operator,
    )
    sku_id = selectors.plan_sku_id(plan)
    assert sku_id is not None
    order = order_actions.create_order(
        buyer, sku_id=sku_id, quantity=1, fulfilment=Fulfilment.NONE, payment_method=PaymentMethod.SANDBOX
    )
    _pay_online(order, buyer)
    package = selectors.my_packages(buyer).get(order_line__order=order)
    address = buyer.addresses.order_by("pk").first()
    if address is not None:
        actions.redeem(
            buyer, package, portions=2, fulfilment=Fulfilment.DELIVERY, channel=Channel.MEMBER, address_id=address.pk
        )
    actions.redeem(
        operator, package, portions=1, fulfilment=Fulfilment.PICKUP, channel=Channel.COUNTER, pickup_point_id=point.pk
    )
    gift: Gift = gift_actions.do_buy(buyer, sku_id, payment_method=PaymentMethod.SANDBOX, message="生日快乐，龙虾管够")
    _pay_online(gift.order, buyer)
    return plan
