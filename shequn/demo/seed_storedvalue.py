"""Demo stored value (ADR 0021): two top-up plans, and a few members who topped up through the
sandbox (their balances show on 我的余额 and in the console's member balances)."""

from shequn.accounts.models import User
from shequn.communities.models import CommunityMembership
from shequn.communities.selectors import current_q
from shequn.orders import actions as order_actions
from shequn.orders.enums import Fulfilment, PaymentMethod
from shequn.orders.models import Order
from shequn.payments import actions as payments
from shequn.payments.models import Payment
from shequn.payments.sandbox import server as sandbox
from shequn.shops.models import Shop
from shequn.storedvalue import actions
from shequn.storedvalue.models import TopUpPlan

# (principal, bonus) in fen: 充 ¥500 送 ¥30, 充 ¥1,000 送 ¥100.
PLANS = ((50_000, 3_000), (100_000, 10_000))
TOP_UPS = 3


def _pay(order: Order, member: User) -> None:
    payments.start_payment(order, member)
    sandbox.confirm(Payment.objects.values_list("prepay_id", flat=True).get(order=order))


def seed_stored_value(shop: Shop, owner: User) -> list[TopUpPlan]:
    """Run inside ``inline_payments()`` (the sandbox's notifications arrive as each step commits)."""
    if TopUpPlan.objects.filter(shop=shop).exists():
        return []
    plans = [
        actions.do_create_plan(shop, owner, actions.PlanInput(principal_fen=principal, bonus_fen=bonus))
        for principal, bonus in PLANS
    ]
    memberships = CommunityMembership.objects.filter(current_q(), community__shop=shop).order_by("id")
    members = list(User.objects.filter(pk__in=memberships.values("user_id")).order_by("id")[:TOP_UPS])
    for index, member in enumerate(members):
        plan = plans[index % len(plans)]
        top_up = order_actions.create_order(
            member,
            sku_id=plan.product.skus.get().pk,
            fulfilment=Fulfilment.NONE,
            payment_method=PaymentMethod.SANDBOX,
        )
        _pay(top_up, member)
    return plans
