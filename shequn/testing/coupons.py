"""Helpers for tests that need coupons: a template of a shop (满100减20 for a week unless told)."""

from datetime import timedelta
from typing import Any

from django.utils import timezone

from shequn.coupons import actions
from shequn.coupons.actions import TemplateInput
from shequn.coupons.models import CouponTemplate
from shequn.testing.orders import make_staff


def make_coupon_template(shop: Any, staff: Any = None, **fields: Any) -> CouponTemplate:
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
    return actions.create_template(shop, staff or make_staff(shop), TemplateInput(**values))
