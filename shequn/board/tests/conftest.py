import pytest

from shequn.board.models import BoardCategory
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
def categories(community):
    return {
        name: BoardCategory.objects.create(shop=community.shop, community=community, name=name, position=index)
        for index, name in enumerate(["求职", "招聘", "知识分享", "问答"])
    }
