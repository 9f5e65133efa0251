import pytest
from django.test import Client

from shequn.shops.enums import StaffRole
from shequn.testing.catalog import make_product
from shequn.testing.factories import CommunityFactory, ShopFactory, StaffFactory, UserFactory


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
def community(shop):
    return CommunityFactory.create(shop=shop, name="张江三文鱼群", invite_code="join-zhangjiang")


@pytest.fixture
def product(shop):
    return make_product(shop, "三文鱼刺身")


@pytest.fixture
def member(db):
    return UserFactory.create(phone="13812345678")


def login(user):
    client = Client()
    client.force_login(user)
    return client
