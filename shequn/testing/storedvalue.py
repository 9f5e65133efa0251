"""Building stored value for tests through the real flows: plans, top-ups paid at the sandbox."""

from typing import Any

from shequn.orders import actions as order_actions
from shequn.orders.enums import Fulfilment, PaymentMethod
from shequn.payments import actions as payment_actions
from shequn.payments.sandbox import server
from shequn.shops.enums import StaffRole
from shequn.storedvalue import actions
from shequn.testing.factories import StaffFactory


def make_plan(shop: Any, principal_fen: int = 100_000, bonus_fen: int = 10_000) -> Any:
    owner = StaffFactory.create(shop=shop, role=StaffRole.OWNER).user
    return actions.do_create_plan(shop, owner, actions.PlanInput(principal_fen=principal_fen, bonus_fen=bonus_fen))


def pay_at_sandbox(url: str) -> None:
    server.confirm(url.rstrip("/").rsplit("/", 1)[-1])


def top_up(member: Any, plan: Any, commit: Any, quantity: int = 1) -> Any:
    """The member buys the plan's card and pays it at the sandbox (callbacks run on commit)."""
    order = order_actions.create_order(
        member,
        sku_id=plan.product.skus.get().pk,
        quantity=quantity,
        fulfilment=Fulfilment.NONE,
        payment_method=PaymentMethod.SANDBOX,
    )
    with commit():
        pay_at_sandbox(payment_actions.start_payment(order, member))
    order.refresh_from_db()
    return order


def paid_top_up(member: Any, plan: Any, quantity: int = 1) -> Any:
    """A top-up recorded as paid without the gateway (as a COD confirmation would record it)."""
    order = order_actions.create_order(
        member,
        sku_id=plan.product.skus.get().pk,
        quantity=quantity,
        fulfilment=Fulfilment.NONE,
        payment_method=PaymentMethod.SANDBOX,
    )
    order_actions.mark_paid(order)
    order.refresh_from_db()
    return order
