import pytest

from shequn.loyalty import actions
from shequn.testing.orders import make_member, make_shop, make_sku, make_staff


@pytest.fixture
def shop(db):
    return make_shop()  # delivery ¥10, free from ¥99


@pytest.fixture
def staff(shop):
    return make_staff(shop)


@pytest.fixture
def sku(shop):
    return make_sku(shop, price_fen=3500, stock=100)


@pytest.fixture
def member(db):
    return make_member()


@pytest.fixture
def program(shop, staff):
    """1 point per ¥1 paid; 100 points take ¥1 off, at most 20 % of the goods; yearly expiry."""
    return actions.save_program(
        shop,
        staff,
        actions.ProgramInput(
            is_open=True, points_per_yuan=1, points_per_yuan_off=100, redeem_cap_percent=20, expire_yearly=True
        ),
    )


@pytest.fixture
def levels(shop, staff, program, sku):
    """普通会员 from 0; 银卡 from ¥100 with ¥30 for ``sku`` and free shipping."""
    normal = actions.save_level(shop, staff, actions.LevelInput(name="普通会员", growth_fen=0))
    silver = actions.save_level(shop, staff, actions.LevelInput(name="银卡", growth_fen=10000, free_shipping=True))
    actions.set_level_prices(shop, staff, silver.pk, {sku.pk: 3000})
    return normal, silver
