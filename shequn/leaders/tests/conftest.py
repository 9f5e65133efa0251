import pytest
from django.test import Client

from shequn.communities.models import SubGroup
from shequn.testing.catalog import api_token_for
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

POINT = {
    "point_name": "阳光花园 3 号楼便利店",
    "point_address": "上海市浦东新区张江路 88 弄 3 号楼 101",
    "opening_hours": "每天 9:00-21:00",
    "contact_phone": "139 1234 5678",
    "latitude": "31.204512",
    "longitude": "121.590123",
    "capacity_per_day": "80",
}


@pytest.fixture
def community(shop):
    return CommunityFactory.create(shop=shop, name="张江三文鱼群", invite_code="join-zhangjiang")


@pytest.fixture
def estate(community):
    return SubGroup.objects.create(community=community, name="阳光花园", kind="neighbourhood")


@pytest.fixture
def other_estate(community):
    return SubGroup.objects.create(community=community, name="汤臣豪园", kind="neighbourhood")


@pytest.fixture
def member(community):
    user = UserFactory.create(nickname="王小明")
    MembershipFactory.create(community=community, user=user)
    return user


@pytest.fixture
def neighbour(community):
    user = UserFactory.create(nickname="李阿姨")
    MembershipFactory.create(community=community, user=user)
    return user


@pytest.fixture
def outsider(db):
    return UserFactory.create(nickname="路人")


def api_client(user) -> Client:
    return Client(headers=api_token_for(user))
