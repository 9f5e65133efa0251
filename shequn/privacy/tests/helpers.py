"""Members with data in many tables, for the export and deletion tests."""

from typing import Any

from shequn.board.models import Thread
from shequn.orders.actions import mark_delivered, ship_order
from shequn.orders.enums import PaymentMethod
from shequn.orders.models import Order
from shequn.payments.actions import confirm_cod_payment
from shequn.testing.factories import AddressFactory, CommunityFactory, MembershipFactory, UserFactory
from shequn.testing.orders import make_staff, place_order


def person(nickname: str, phone: str, recipient: str, detail: str) -> Any:
    """A member whose nickname, phone, recipient name and street are their own (the factories share one)."""
    user = UserFactory.create(nickname=nickname, phone=phone)
    AddressFactory.create(user=user, recipient=recipient, phone=phone, detail=detail)
    return user


def delivered_order(user: Any, sku: Any, quantity: int = 1) -> Order:
    """Cash on delivery, paid (a payment row), shipped and delivered through the real staff actions."""
    order = place_order(user, sku, quantity, payment_method=PaymentMethod.COD)
    staff = make_staff(sku.shop)
    confirm_cod_payment(sku.shop, order, staff)
    ship_order(sku.shop, order.pk, staff, tracking_company="顺丰速运", tracking_number=f"SF{order.pk:08d}")
    mark_delivered(sku.shop, order.pk, staff)
    order.refresh_from_db()
    return order


def join_and_post(user: Any, shop: Any, *, community_name: str, thread_title: str) -> Any:
    community = CommunityFactory.create(shop=shop, name=community_name)
    MembershipFactory.create(community=community, user=user)
    Thread.objects.create(shop=shop, community=community, author=user, title=thread_title, body="大家好")
    return community
