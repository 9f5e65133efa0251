"""Fixtures for console tests: two shops, an operator in each, and a signed-in client for each."""

import pytest
from django.test import Client

from shequn.shops.enums import StaffRole
from shequn.testing.factories import ShopFactory, StaffFactory


@pytest.fixture
def shop(db):
    return ShopFactory.create(slug="salmon")


@pytest.fixture
def other_shop(db):
    return ShopFactory.create(slug="other")


@pytest.fixture
def operator(shop):
    return StaffFactory.create(shop=shop, role=StaffRole.OPERATOR).user


@pytest.fixture
def other_operator(other_shop):
    return StaffFactory.create(shop=other_shop, role=StaffRole.OPERATOR).user


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def console_client(operator):
    return login(operator)


@pytest.fixture
def other_console_client(other_operator):
    return login(other_operator)
