"""A page the role may not open answers 403 inside the console, with this role's menu and whom to ask."""

import pytest
from django.test import Client

from shequn.shops.enums import StaffRole
from shequn.testing.factories import StaffFactory

pytestmark = pytest.mark.django_db


def test_forbidden_console_page_renders_in_the_console_layout_with_the_roles_menu():
    staff = StaffFactory.create(role=StaffRole.OPERATOR)
    client = Client()
    client.force_login(staff.user)
    response = client.get("/console/staff/")
    assert response.status_code == 403
    html = response.content.decode()
    # The console's layout and sidebar, not the member site's tab bar.
    assert 'class="sidebar"' in html
    assert 'class="tabbar"' not in html
    assert staff.shop.name in html
    assert "<h1>没有权限</h1>" in html
    assert "你的角色（运营）没有此操作的权限，需要店主或管理员角色" in html
    # The menu is the operator's: pages they may open, not the ones they may not.
    assert 'href="/console/orders/"' in html
    assert 'href="/console/staff/"' not in html
    assert 'href="/console/audit/"' not in html


def test_forbidden_console_post_also_stays_in_the_console():
    staff = StaffFactory.create(role=StaffRole.FINANCE)
    client = Client()
    client.force_login(staff.user)
    response = client.post("/console/staff/add/", {"username": "someone", "role": "admin"})
    assert response.status_code == 403
    html = response.content.decode()
    assert 'class="sidebar"' in html
    assert "你的角色（财务）没有此操作的权限，需要店主或管理员角色" in html


def test_forbidden_api_call_names_the_roles_that_may():
    staff = StaffFactory.create(role=StaffRole.OPERATOR)
    client = Client()
    client.force_login(staff.user)
    response = client.get("/console/staff/", HTTP_ACCEPT="application/json")
    assert response.status_code == 403
    assert response.json()["details"] == {"required_roles": ["owner", "admin"]}
