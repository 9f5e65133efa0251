"""Each role reaches exactly the console pages its permissions allow; other shops look absent."""

import pytest
from django.test import Client

from shequn.shops import permissions
from shequn.shops.enums import StaffRole
from shequn.testing.factories import PickupPointFactory, ShopFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def member_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


PAGES = {
    "/console/": permissions.VIEW_DASHBOARD,
    "/console/staff/": permissions.MANAGE_STAFF,
    "/console/audit/": permissions.VIEW_AUDIT,
    "/console/pickup-points/": permissions.MANAGE_SHOP,
    "/console/settings/": permissions.MANAGE_SHOP,
}


@pytest.mark.parametrize("role", StaffRole.values)
@pytest.mark.parametrize("url", list(PAGES))
def test_page_access_follows_role_permissions(role, url):
    staff = StaffFactory.create(role=role)
    response = member_client(staff.user).get(url)
    expected = 200 if permissions.role_allows(role, PAGES[url]) else 403
    assert response.status_code == expected


def test_role_matrix_is_what_the_business_expects():
    assert not permissions.role_allows(StaffRole.FINANCE, permissions.MANAGE_CATALOG)
    assert not permissions.role_allows(StaffRole.FINANCE, permissions.MANAGE_STAFF)
    assert not permissions.role_allows(StaffRole.SERVICE, permissions.MANAGE_STAFF)
    assert not permissions.role_allows(StaffRole.OPERATOR, permissions.CONFIRM_COD)
    assert permissions.role_allows(StaffRole.FINANCE, permissions.CONFIRM_COD)
    assert permissions.role_allows(StaffRole.SERVICE, permissions.DECIDE_REFUNDS)
    assert permissions.role_allows(StaffRole.ADMIN, permissions.MANAGE_STAFF)
    assert set(permissions.LABELS) == permissions.ALL


@pytest.mark.parametrize("role", [StaffRole.FINANCE, StaffRole.SERVICE, StaffRole.OPERATOR])
def test_roles_without_manage_staff_cannot_write_staff(role):
    staff = StaffFactory.create(role=role)
    other = StaffFactory.create(shop=staff.shop, role=StaffRole.OPERATOR)
    client = member_client(staff.user)
    newcomer = UserFactory.create()
    assert client.post("/console/staff/add/", {"username": newcomer.username, "role": "admin"}).status_code == 403
    assert client.post(f"/console/staff/{other.pk}/role/", {"role": "owner"}).status_code == 403
    assert client.post(f"/console/staff/{other.pk}/deactivate/").status_code == 403
    other.refresh_from_db()
    assert other.role == StaffRole.OPERATOR
    assert other.is_active
    assert not staff.shop.staff.filter(user=newcomer).exists()


def test_console_needs_a_staff_login():
    assert Client().get("/console/")["Location"].startswith("/console/login/")
    member = member_client(UserFactory.create())
    assert member.get("/console/")["Location"].startswith("/console/login/")


def test_staff_of_shop_b_get_404_for_shop_a_ids():
    a_owner = StaffFactory.create(role=StaffRole.OWNER)
    a_staff = StaffFactory.create(shop=a_owner.shop, role=StaffRole.OPERATOR)
    a_point = PickupPointFactory.create(shop=a_owner.shop)
    b_owner = StaffFactory.create(role=StaffRole.OWNER)
    client = member_client(b_owner.user)
    assert client.post(f"/console/staff/{a_staff.pk}/role/", {"role": "finance"}).status_code == 404
    assert client.post(f"/console/staff/{a_staff.pk}/deactivate/").status_code == 404
    assert client.get(f"/console/pickup-points/{a_point.pk}/").status_code == 404
    assert client.post(f"/console/pickup-points/{a_point.pk}/", {"name": "x", "address": "y"}).status_code == 404
    assert client.post(f"/console/pickup-points/{a_point.pk}/active/", {"active": "0"}).status_code == 404
    assert client.post("/console/switch-shop/", {"shop_id": a_owner.shop.pk}).status_code == 404
    a_staff.refresh_from_db()
    a_point.refresh_from_db()
    assert a_staff.role == StaffRole.OPERATOR
    assert a_point.is_active
    # Shop A's staff do not show in shop B's list.
    assert a_staff.user.username not in client.get("/console/staff/").content.decode()


def test_staff_of_shop_b_get_404_from_shop_a_api():
    a_owner = StaffFactory.create(role=StaffRole.OWNER)
    a_staff = StaffFactory.create(shop=a_owner.shop, role=StaffRole.OPERATOR)
    b_owner = StaffFactory.create(role=StaffRole.OWNER)
    client = member_client(b_owner.user)
    shop_a = a_owner.shop.pk
    assert client.get(f"/api/v1/shops/{shop_a}/staff").status_code == 404
    assert client.get(f"/api/v1/shops/{shop_a}/audit").status_code == 404
    # Shop B's own id with shop A's staff id: still 404.
    response = client.delete(f"/api/v1/shops/{b_owner.shop.pk}/staff/{a_staff.pk}")
    assert response.status_code == 404
    assert response.json()["code"] == "staff_not_found"


def test_empty_console_pages_render():
    staff = StaffFactory.create(role=StaffRole.OWNER, shop=ShopFactory.create(name="空店"))
    client = member_client(staff.user)
    assert "空店" in client.get("/console/").content.decode()
    assert "还没有自提点" in client.get("/console/pickup-points/").content.decode()
    assert "暂无操作记录" in client.get("/console/audit/").content.decode()
    assert "员工与角色" in client.get("/console/staff/").content.decode()
    assert "未支付订单自动关闭" in client.get("/console/settings/").content.decode()


def test_switch_shop_between_own_shops():
    first = StaffFactory.create(role=StaffRole.OWNER, shop=ShopFactory.create(name="第一家"))
    second = StaffFactory.create(role=StaffRole.FINANCE, user=first.user, shop=ShopFactory.create(name="第二家"))
    client = member_client(first.user)
    assert "第一家" in client.get("/console/").content.decode()
    assert "第二家" in client.get("/console/switch-shop/").content.decode()
    response = client.post("/console/switch-shop/", {"shop_id": second.shop.pk})
    assert response.status_code == 302
    assert "第二家" in client.get("/console/").content.decode()
    # Finance in the second shop: staff management is off limits there.
    assert client.get("/console/staff/").status_code == 403
