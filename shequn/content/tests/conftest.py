import pytest

from shequn.testing.catalog import make_product
from shequn.testing.community import api_client, community, make_members, member, other_member, outsider
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
    "api_client",
    "community",
    "console_client",
    "login",
    "make_members",
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
def product(shop):
    return make_product(shop, "三文鱼刺身")
