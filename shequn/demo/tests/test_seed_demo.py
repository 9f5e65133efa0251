"""seed_demo builds a consistent demo through the real actions, and a second run changes nothing."""

import pytest
from django.core.management import call_command
from django.db.models import Sum

from shequn.accounts.models import User
from shequn.catalog.models import Product, Sku
from shequn.communities.models import Channel, Community, CommunityMembership, Post, SubGroup
from shequn.demo import data
from shequn.demo.seed import seed
from shequn.notifications.models import Notification
from shequn.orders.enums import OrderStatus
from shequn.orders.models import Order, OrderEvent, OrderLine, RefundRequest
from shequn.payments.models import Payment
from shequn.shops.models import PickupPoint, Shop, StaffMember

LIVE = [s for s in OrderStatus.values if s not in (OrderStatus.CANCELLED, OrderStatus.CLOSED)]


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Shop, User, StaffMember, PickupPoint, Product, Sku, Community, CommunityMembership, Post, Order)
    }


@pytest.mark.django_db(transaction=True)  # payments complete in on_commit callbacks, as in production
def test_seed_builds_the_demo_shop_and_is_idempotent() -> None:
    seed(with_images=False, with_orders=False)
    stock_before_orders = dict(Sku.objects.values_list("pk", "stock"))
    report = seed(with_images=False, order_count=25)

    shop = Shop.objects.get(slug=data.DEMO_SHOP_SLUG)
    assert Product.objects.filter(shop=shop).count() == len(data.PRODUCTS)
    assert Product.objects.filter(shop=shop, returnable=False).exists()
    assert Product.objects.filter(shop=shop, per_person_cap__isnull=False).exists()
    assert Sku.objects.filter(shop=shop, member_price_fen__isnull=False).exists()
    assert Sku.objects.filter(shop=shop, spec="1斤").exists()
    assert set(StaffMember.objects.filter(shop=shop).values_list("user__username", "role")) == {
        (username, role) for username, role, _ in data.STAFF
    }
    staff_user = User.objects.get(username="operator")
    assert staff_user.check_password(data.DEMO_PASSWORD)
    assert User.objects.filter(phone__startswith="139").count() == data.MEMBER_COUNT
    assert Community.objects.filter(shop=shop).count() == 3
    assert PickupPoint.objects.filter(shop=shop).count() == 2
    # Channels and sub-groups: seats counted by the actions match the members placed.
    assert Channel.objects.filter(community__shop=shop).count() == 3 * len(data.CHANNELS)
    assert CommunityMembership.objects.filter(community__shop=shop, channel__isnull=False).exists()
    for sub_group in SubGroup.objects.filter(community__shop=shop):
        assert sub_group.member_count == CommunityMembership.objects.filter(sub_group=sub_group).count()
    assert SubGroup.objects.filter(community__shop=shop, member_count__gt=0).exists()

    # Orders came through the actions: every one has its history, paid ones a payment.
    orders = Order.objects.filter(shop=shop)
    assert orders.count() >= 20, report.steps
    statuses = set(orders.values_list("status", flat=True))
    assert {OrderStatus.COMPLETED, OrderStatus.CLOSED, OrderStatus.PAID, OrderStatus.PENDING_PAYMENT} <= statuses
    for order in orders:
        assert OrderEvent.objects.filter(order=order).exists()
        assert order.created_at <= (order.paid_at or order.created_at)
        if order.paid_at is not None:
            assert Payment.objects.filter(order=order, status="succeeded").exists()
    assert RefundRequest.objects.filter(shop=shop).exists()
    # Inbox messages carry the time of their step, not one time for the whole order.
    for order in orders.filter(paid_at__isnull=False, payment_method="sandbox"):
        paid_message = Notification.objects.get(user=order.user, kind="order.paid", link__contains=order.number)
        assert paid_message.created_at == order.paid_at

    # Stock: every unit held by a live order left the SKU, every released unit came back.
    for sku_id, before in stock_before_orders.items():
        held = OrderLine.objects.filter(sku_id=sku_id, order__status__in=LIVE).aggregate(n=Sum("quantity"))["n"] or 0
        assert Sku.objects.get(pk=sku_id).stock == before - held

    counts = _counts()
    call_command("seed_demo", "--no-images", "--orders", "25")
    assert _counts() == counts
