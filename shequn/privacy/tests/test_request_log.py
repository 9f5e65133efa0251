"""Staff see the log of data requests: platform staff all of them, a shop's owner those of its own
members (masked), another shop's staff none."""

import pytest
from django.test import Client

from shequn.testing.accounts import bearer
from shequn.testing.factories import UserFactory
from shequn.testing.orders import make_shop, make_sku, place_order, staff_client

from .helpers import delivered_order, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def requests_logged():
    shop = make_shop(name="本店", slug="ours")
    other_shop = make_shop(name="别家", slug="theirs")
    member = person("沈清秋", "13922223333", "沈清秋", "湖滨路 3 号")
    delivered_order(member, make_sku(shop), 1)
    Client().get("/api/v1/me/export?format=json", headers=bearer(member))
    place_order(member, make_sku(shop), 1)  # unpaid: the deletion is refused
    Client().post("/api/v1/me/deletion", {"code": "123456"}, content_type="application/json", headers=bearer(member))
    return {"shop": shop, "other_shop": other_shop}


def test_the_shop_owner_sees_its_members_requests_masked(requests_logged):
    page = staff_client(requests_logged["shop"], role="owner").get("/console/privacy/")

    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('data-kind="export"') == 1
    assert 'data-kind="deletion" data-outcome="refused"' in html
    assert "139****3333" in html
    assert "13922223333" not in html
    assert "沈清秋" not in html


def test_another_shops_staff_see_none_of_them(requests_logged):
    page = staff_client(requests_logged["other_shop"], role="owner").get("/console/privacy/")

    assert page.status_code == 200
    assert 'data-testid="privacy-requests"' not in page.content.decode()
    assert "139****3333" not in page.content.decode()


def test_platform_staff_see_every_request_and_shop_staff_cannot_open_the_platform_log(requests_logged):
    admin = Client()
    admin.force_login(UserFactory.create(is_staff=True, is_superuser=True))

    page = admin.get("/admin/privacy/datarequest/")

    assert page.status_code == 200
    assert page.content.decode().count("139****3333") == 2
    owner = staff_client(requests_logged["shop"], role="owner")
    assert owner.get("/admin/privacy/datarequest/").status_code == 302  # to the admin sign-in
