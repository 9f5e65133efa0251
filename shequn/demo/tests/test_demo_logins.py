"""The logins README and `make run` print work in a real browser against the seeded demo."""

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from shequn.demo import data
from shequn.demo.seed import seed


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_demo_staff_sign_in_to_the_console_and_members_see_the_phone_login(new_page: Callable[..., Page]) -> None:
    seed(with_images=False, with_orders=False)

    staff = new_page(viewport={"width": 1280, "height": 800}, is_mobile=False)
    staff.goto("/console/login/")
    staff.locator("#username").fill("operator")
    staff.locator("#password").fill(data.DEMO_PASSWORD)
    staff.get_by_role("button", name="登录").click()
    expect(staff.get_by_text(data.DEMO_SHOP_NAME).first).to_be_visible()
    assert "/login/" not in staff.url

    platform = new_page(viewport={"width": 1280, "height": 800}, is_mobile=False)
    platform.goto("/console/login/?next=/platform/applications/")
    platform.locator("#username").fill(data.PLATFORM_USERNAME)
    platform.locator("#password").fill(data.DEMO_PASSWORD)
    platform.get_by_role("button", name="登录").click()
    expect(platform.get_by_test_id("applications-table")).to_contain_text("湖畔果园")

    member = new_page()
    member.goto("/login/")
    expect(member.locator("#phone")).to_be_visible()
    expect(member.get_by_test_id("send-code")).to_be_visible()
