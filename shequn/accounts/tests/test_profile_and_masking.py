"""Profile page and phone masking: the owner sees the full number, everyone else 138****1234."""

import pytest
from django.test import Client

from shequn.accounts.selectors import phone_for_viewer
from shequn.shops.enums import StaffRole
from shequn.testing.accounts import bearer, member_client
from shequn.testing.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_profile_shows_own_phone_in_full_and_saves_nickname():
    user = UserFactory.create(phone="13812341234", nickname="老王")
    client = member_client(user)
    page = client.get("/me/").content.decode()
    assert "13812341234" in page
    assert "老王" in page
    assert "收货地址" in page
    assert "退出登录" in page
    response = client.post("/me/", {"nickname": "  王 大 锤 "})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.nickname == "王 大 锤"
    bad = client.post("/me/", {"nickname": "x" * 21})
    assert bad.status_code == 422
    assert "昵称最多 20 个字" in bad.content.decode()


def test_profile_needs_sign_in():
    assert Client().get("/me/")["Location"].startswith("/login/")


def test_phone_for_viewer():
    owner, other = UserFactory.create(phone="13812341234"), UserFactory.create()
    assert phone_for_viewer(owner.phone, owner=owner, viewer=owner) == "13812341234"
    assert phone_for_viewer(owner.phone, owner=owner, viewer=other) == "138****1234"
    assert phone_for_viewer(owner.phone, owner=owner, viewer=None) == "138****1234"


def test_api_me_is_full_for_owner():
    user = UserFactory.create(phone="13812341234")
    me = Client().get("/api/v1/accounts/me", HTTP_AUTHORIZATION=bearer(user)["Authorization"]).json()
    assert me["phone"] == "13812341234"


def test_staff_list_masks_other_peoples_phones_page_and_api():
    owner = StaffFactory.create(role=StaffRole.OWNER, user__phone="13900001111")
    StaffFactory.create(shop=owner.shop, role=StaffRole.SERVICE, user__phone="13812341234")
    client = member_client(owner.user)
    html = client.get("/console/staff/").content.decode()
    assert "138****1234" in html
    assert "13812341234" not in html
    assert "13900001111" in html  # the viewer's own number
    api = client.get(f"/api/v1/shops/{owner.shop.pk}/staff").json()
    phones = {item["username"]: item["phone"] for item in api["items"]}
    assert phones[owner.user.username] == "13900001111"
    assert "138****1234" in phones.values()
    assert "13812341234" not in phones.values()
