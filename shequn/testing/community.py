"""Fixtures for the community apps' tests (board, content, courses, events): one community of
``two_shops.shop`` with members and an outsider, and an API client for any user.

Import the fixtures into an app's conftest (``from shequn.testing.community import ...``) next
to ``shequn.testing.two_shops``; an app that needs another name overrides ``community`` there.
"""

from typing import Any

import pytest
from django.test import Client

from .accounts import bearer
from .factories import CommunityFactory, MembershipFactory, UserFactory


def make_member(community: Any, nickname: str) -> Any:
    """A user who is an active member of ``community``."""
    user = UserFactory.create(nickname=nickname)
    MembershipFactory.create(community=community, user=user)
    return user


def make_members(community: Any, count: int, prefix: str = "成员") -> list[Any]:
    """``count`` active members named ``<prefix>1`` … ``<prefix>N``."""
    return [make_member(community, f"{prefix}{index + 1}") for index in range(count)]


def api_client(user: Any) -> Client:
    """A client calling the API as ``user`` with a fresh bearer token."""
    return Client(headers=bearer(user))


@pytest.fixture
def community(shop: Any) -> Any:
    return CommunityFactory.create(shop=shop, name="张江三文鱼群", invite_code="join-zhangjiang")


@pytest.fixture
def member(community: Any) -> Any:
    return make_member(community, "小王")


@pytest.fixture
def other_member(community: Any) -> Any:
    return make_member(community, "老李")


@pytest.fixture
def outsider(db: Any) -> Any:
    return UserFactory.create(nickname="路人")
