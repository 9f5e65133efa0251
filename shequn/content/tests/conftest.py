import pytest
from django.test import Client

from shequn.testing.catalog import api_token_for, make_product
from shequn.testing.factories import CommunityFactory, MembershipFactory, UserFactory
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
def member(community):
    user = UserFactory.create(nickname="小王")
    MembershipFactory.create(community=community, user=user)
    return user


@pytest.fixture
def outsider(db):
    return UserFactory.create(nickname="路人")


@pytest.fixture
def product(shop):
    return make_product(shop, "三文鱼刺身")


def api_client(user) -> Client:
    return Client(headers=api_token_for(user))
