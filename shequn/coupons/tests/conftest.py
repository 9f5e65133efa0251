from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from shequn.coupons import actions
from shequn.coupons.actions import TemplateInput
from shequn.coupons.models import CouponTemplate
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
        now = timezone.now()
        values: dict[str, Any] = {
            "name": "满100减20",
            "kind": "threshold",
            "threshold_fen": 10000,
            "amount_fen": 2000,
            "total_quantity": 100,
            "valid_from": now - timedelta(hours=1),
            "valid_until": now + timedelta(days=7),
        } | fields
        return actions.create_template(shop, staff, TemplateInput(**values))

    return make
