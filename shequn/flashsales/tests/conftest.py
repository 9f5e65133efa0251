from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from shequn.flashsales import actions
from shequn.flashsales.actions import ItemInput, SaleInput, SessionInput
from shequn.gate.engine import use_gate
from shequn.gate.local import LocalGate
from shequn.testing.factories import AddressFactory, PickupPointFactory, SkuFactory, UserFactory
from shequn.testing.payments import sandbox, sandbox_key_dir
from shequn.testing.two_shops import (
    console_client,
    login,
    operator,
    other_console_client,
    other_operator,
    other_shop,
    shop,
)
from shequn.testing.wechat import wechat, wechat_subscribe

__all__ = [
    "console_client",
    "login",
    "operator",
    "other_console_client",
    "other_operator",
    "other_shop",
    "sandbox",
    "sandbox_key_dir",
    "shop",
    "wechat",
    "wechat_subscribe",
]


@pytest.fixture(autouse=True)
def gate() -> Iterator[LocalGate]:
    """Every test starts with an empty in-process gate."""
    fresh = LocalGate()
    previous = use_gate(fresh)
    yield fresh
    use_gate(previous)


@pytest.fixture
def commit(django_capture_on_commit_callbacks: Any) -> Callable[[], Any]:
    """Run on-commit callbacks (and those they queue) as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def sku(shop: Any) -> Any:
    return SkuFactory.create(product__shop=shop, product__title="手机", spec="256G", price_fen=199900, stock=100)


def buyer(nickname: str = "买家", *, address: bool = True) -> Any:
    user = UserFactory.create(nickname=nickname)
    if address:
        AddressFactory.create(user=user, is_default=True)
    return user


def sale_input(
    sku: Any, *, quantity: int = 3, cap: int = 1, starts_in: timedelta = timedelta(0), **fields: Any
) -> SaleInput:
    now = timezone.now()
    starts = now + starts_in
    fields.setdefault("title", "周五手机秒杀")
    fields.setdefault("reservation_starts_at", starts - timedelta(days=1))
    fields.setdefault("payment_timeout_minutes", 10)
    return SaleInput(
        sessions=[
            SessionInput(
                starts_at=starts,
                ends_at=starts + timedelta(hours=1),
                items=[ItemInput(sku_id=sku.pk, flash_price_fen=99900, quantity=quantity, per_person_cap=cap)],
            )
        ],
        **fields,
    )


@pytest.fixture
def running(shop: Any, operator: Any, sku: Any, commit: Any, sandbox: Any) -> Any:
    """A scheduled sale whose one session started a second ago: 3 units, 1 per member."""
    return make_running(shop, operator, sku, commit)


def make_running(shop: Any, operator: Any, sku: Any, commit: Any, **options: Any) -> Any:
    sale = actions.create_sale(shop, operator, sale_input(sku, starts_in=timedelta(seconds=-1), **options))
    with commit():
        actions.schedule_sale(shop, operator, sale.pk)
    sale.refresh_from_db()
    return sale


def item_of(sale: Any) -> Any:
    return actions._sale_items(sale)[0]


__all__ += ["PickupPointFactory"]
