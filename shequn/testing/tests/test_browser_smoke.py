"""Smoke test of the browser wiring: Debian's Chromium, driven by Playwright, against the live server."""

import pytest
from playwright.sync_api import Page, expect

from shequn.accounts.models import User


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_platform_admin_signs_in_in_chinese_on_a_phone(page: Page) -> None:
    User.objects.create_superuser("platform", "correct horse battery staple")

    page.goto("/admin/login/?next=/admin/")
    expect(page).to_have_title("登录 | Django 站点管理员")
    assert page.viewport_size == {"width": 390, "height": 844}
    assert page.evaluate("navigator.language") == "zh-CN"

    page.locator("#id_username").fill("platform")
    page.locator("#id_password").fill("correct horse battery staple")
    page.get_by_role("button", name="登录").click()

    expect(page.get_by_role("heading", name="站点管理")).to_be_visible()
    # The admin stylesheet came through the static files pipeline.
    assert page.evaluate("getComputedStyle(document.body).fontFamily") != ""
    assert page.request.get("/static/admin/css/base.css").ok


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_npm_installed_front_end_libraries_are_served(page: Page) -> None:
    # htmx and ECharts come from the npm registry at set-up (package.json) and are never committed.
    page.goto("/admin/login/")
    page.add_script_tag(url="/static/vendor/htmx/htmx.min.js")
    page.add_script_tag(url="/static/vendor/echarts/echarts.min.js")
    assert page.evaluate("typeof htmx.ajax") == "function"
    assert page.evaluate("typeof echarts.init") == "function"


def test_two_pages_have_separate_sessions(new_page, live_server, django_user_model, transactional_db) -> None:
    django_user_model.objects.create_superuser("platform", "correct horse battery staple")
    signed_in = new_page()
    signed_in.goto("/admin/login/?next=/admin/")
    signed_in.locator("#id_username").fill("platform")
    signed_in.locator("#id_password").fill("correct horse battery staple")
    signed_in.get_by_role("button", name="登录").click()
    expect(signed_in.get_by_role("heading", name="站点管理")).to_be_visible()

    stranger = new_page()
    stranger.goto("/admin/")
    expect(stranger).to_have_url(f"{live_server.url}/admin/login/?next=/admin/")
