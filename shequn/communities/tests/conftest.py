import pytest

from shequn.testing.catalog import make_product
from shequn.testing.factories import CommunityFactory, UserFactory
from shequn.testing.two_shops import (
    console_client,
    login,
    operator,
    other_console_client,
    other_operator,
    other_shop,
    shop,
)

__all__ = ["console_client", "login", "operator", "other_console_client", "other_operator", "other_shop", "shop"]


@pytest.fixture
def community(shop):
    return CommunityFactory.create(shop=shop, name="张江三文鱼群", invite_code="join-zhangjiang")


@pytest.fixture
def product(shop):
    return make_product(shop, "三文鱼刺身")


@pytest.fixture
def member(db):
    return UserFactory.create(phone="13812345678")
