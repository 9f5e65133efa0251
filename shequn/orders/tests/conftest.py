import pytest
from django.test import Client

from shequn.testing.orders import make_member, make_shop, make_sku


@pytest.fixture
def shop(db):
    return make_shop()


@pytest.fixture
def sku(shop):
    return make_sku(shop, price_fen=3500, stock=10)


@pytest.fixture
def member(db):
    return make_member()


@pytest.fixture
def member_client(member):
    client = Client()
    client.force_login(member)
    return client
