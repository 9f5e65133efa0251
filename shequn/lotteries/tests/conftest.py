from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from shequn.lotteries import actions
from shequn.lotteries.actions import LotteryInput, PrizeInput
from shequn.testing.community import community, member, other_member, outsider
from shequn.testing.factories import PickupPointFactory, SkuFactory
from shequn.testing.two_shops import (
    console_client,
    login,
    operator,
    other_console_client,
    other_operator,
    other_shop,
    shop,
)

__all__ = [
    "community",
    "console_client",
    "login",
    "member",
    "operator",
    "other_console_client",
    "other_member",
    "other_operator",
    "other_shop",
    "outsider",
    "shop",
]


@pytest.fixture
def commit(django_capture_on_commit_callbacks: Any) -> Callable[[], Any]:
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def sku(shop: Any) -> Any:
    return SkuFactory.create(product__shop=shop, product__title="三文鱼礼盒", spec="1kg", price_fen=29900, stock=100)


@pytest.fixture
def pickup_point(shop: Any) -> Any:
    return PickupPointFactory.create(shop=shop)


def draw_input(community: Any, sku: Any, *, start: datetime | None = None, **fields: Any) -> LotteryInput:
    """A timed draw: entries for an hour from ``start`` (a minute from now), drawn right after."""
    start = start or timezone.now() + timedelta(minutes=1)
    values: dict[str, Any] = {
        "title": "周年庆抽奖",
        "rules": "社群成员每人可参与一次，开奖时间公布中奖名单。",
        "mode": "draw",
        "entry_condition": "community",
        "community_id": community.pk,
        "starts_at": start,
        "ends_at": start + timedelta(hours=1),
        "draw_at": start + timedelta(hours=1),
        "claim_deadline": start + timedelta(days=7),
        "unclaimed_rule": "逾期未领取视为放弃，奖品不再补发。",
        "prizes": [
            PrizeInput(name="一等奖 三文鱼礼盒", kind="goods", value_fen=29900, quantity=1, sku_id=sku.pk),
            PrizeInput(name="二等奖 三文鱼礼盒", kind="goods", value_fen=29900, quantity=2, sku_id=sku.pk),
        ],
    }
    values.update(fields)
    return LotteryInput(**values)


def wheel_input(community: Any, sku: Any, *, start: datetime | None = None, **fields: Any) -> LotteryInput:
    """An instant wheel: 1 first prize at 10 %, 2 second prizes at 30 %, one spin each."""
    start = start or timezone.now() + timedelta(minutes=1)
    fields.setdefault(
        "prizes",
        [
            PrizeInput(name="一等奖", kind="goods", value_fen=29900, quantity=1, sku_id=sku.pk, odds_ppm=100_000),
            PrizeInput(name="二等奖", kind="goods", value_fen=29900, quantity=2, sku_id=sku.pk, odds_ppm=300_000),
        ],
    )
    return draw_input(community, sku, start=start, mode="instant", draw_at=None, **fields)


def published(shop: Any, operator: Any, data: LotteryInput, commit: Callable[[], Any]) -> Any:
    lottery = actions.create_lottery(shop, operator, data)
    with commit():
        actions.publish_lottery(shop, operator, lottery.pk)
    lottery.refresh_from_db()
    return lottery


def prize_coupon(shop: Any, **fields: Any) -> Any:
    """A coupon template for prizes: members cannot claim it themselves, and each coupon is valid 30
    days from its issue (a prize's coupon must outlive the claim deadline, seven days here)."""
    from shequn.testing.coupons import make_coupon_template

    values: dict[str, Any] = {
        "claimable": False, "validity": "days", "valid_days": 30, "valid_from": None, "valid_until": None,
    } | fields  # fmt: skip
    return make_coupon_template(shop, **values)
