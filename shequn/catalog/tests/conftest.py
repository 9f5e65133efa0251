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


@pytest.fixture
def console_client(operator):
    client = Client()
    client.force_login(operator)
    return client


@pytest.fixture
def other_console_client(other_operator):
    client = Client()
    client.force_login(other_operator)
    return client
