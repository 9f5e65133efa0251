from datetime import timedelta

import pytest
from django.utils import timezone

from shequn.orders import actions as order_actions
from shequn.orders.models import Order
from shequn.payments import actions as payment_actions
from shequn.payments.sandbox import server
from shequn.teambuy import actions
from shequn.teambuy.models import TeamOffer
from shequn.testing.factories import PickupPointFactory, UserFactory
from shequn.testing.orders import make_sku
from shequn.testing.payments import sandbox, sandbox_key_dir
from shequn.testing.two_shops import console_client, operator, other_console_client, other_operator, other_shop, shop

__all__ = [
    "console_client",
    "operator",
    "other_console_client",
    "other_operator",
    "other_shop",
    "sandbox",
    "sandbox_key_dir",
    "shop",
]


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def sku(shop):
    return make_sku(shop, price_fen=5990, stock=50, title="千岛湖有机鱼头")


@pytest.fixture
def pickup_point(shop):
    return PickupPointFactory.create(shop=shop, name="阳光小区东门")


@pytest.fixture
def offer(shop, sku):
    return TeamOffer.objects.create(
        shop=shop,
        sku=sku,
        title="有机鱼头 3 人团",
        team_size=3,
        team_price_fen=3990,
        time_limit_hours=24,
        starts_at=timezone.now() - timedelta(minutes=1),
    )


@pytest.fixture
def destination(pickup_point):
    return actions.Destination(fulfilment="pickup", pickup_point_id=pickup_point.pk)


@pytest.fixture
def members():
    return [UserFactory.create(nickname=name) for name in ("王小明", "李华", "张三丰", "赵敏")]


def pay(order: Order, commit) -> Order:
    """Pay through the sandbox gateway: the signed callback applies the payment."""
    url = payment_actions.start_payment(order, order.user)
    with commit():
        server.confirm(url.rstrip("/").rsplit("/", 1)[-1])
    order.refresh_from_db()
    return order


__all__ += ["order_actions", "pay"]
