from typing import Any

import pytest

from shequn.coupons.models import CouponTemplate
from shequn.testing.coupons import make_coupon_template
from shequn.testing.orders import make_member, make_shop, make_sku, make_staff


@pytest.fixture
def shop(db):
    return make_shop()


@pytest.fixture
def staff(shop):
    return make_staff(shop)


@pytest.fixture
def sku(shop):
    return make_sku(shop, price_fen=5000, stock=50, title="苹果")


@pytest.fixture
def member(db):
    return make_member()


@pytest.fixture
def make_template(shop, staff):
    def make(**fields: Any) -> CouponTemplate:
        return make_coupon_template(shop, staff, **fields)

    return make
