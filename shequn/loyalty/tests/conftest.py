import pytest

from shequn.testing.loyalty import make_program
from shequn.testing.orders import make_member, make_shop, make_staff


@pytest.fixture
def shop(db):
    return make_shop()


@pytest.fixture
def staff(shop):
    return make_staff(shop)


@pytest.fixture
def member(db):
    return make_member()


@pytest.fixture
def program(shop, staff):
    return make_program(shop, staff)
