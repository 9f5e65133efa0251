"""In Chromium on a phone-sized screen: sign in by OTP, then add addresses with the cascading region picker."""

import pytest
from playwright.sync_api import Page, expect

from shequn.accounts.models import Address

PHONE = "13812341234"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_member_signs_in_and_adds_addresses_with_the_region_picker(page: Page, sms_outbox) -> None:
    page.goto("/login/?next=/me/addresses/")
    page.locator("#phone").fill(PHONE)
    page.get_by_test_id("send-code").click()
    expect(page.get_by_text("验证码已发送至 138****1234")).to_be_visible()
    page.locator("#code").fill(sms_outbox.last_code(PHONE))
    page.get_by_test_id("sign-in").click()
    expect(page.get_by_test_id("empty")).to_have_text("还没有收货地址")

    page.get_by_role("link", name="新增收货地址").click()
    page.locator("#recipient").fill("王小明")
    page.locator("#phone").fill("13912345678")
    page.locator("#province_code").select_option(label="上海市")
    expect(page.locator("#city_code option", has_text="上海市")).to_have_count(1)
    page.locator("#city_code").select_option(label="上海市")
    expect(page.locator("#district_code option", has_text="浦东新区")).to_have_count(1)
    page.locator("#district_code").select_option(label="浦东新区")
    page.locator("#detail").fill("张江路 100 弄 5 号 601")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("address-list")).to_contain_text("上海市 浦东新区 张江路 100 弄 5 号 601")

    # A city without districts: the district list says so and may stay empty.
    page.get_by_role("link", name="新增收货地址").click()
    page.locator("#recipient").fill("李雷")
    page.locator("#phone").fill("13912345679")
    page.locator("#province_code").select_option(label="广东省")
    expect(page.locator("#city_code option", has_text="东莞市")).to_have_count(1)
    page.locator("#city_code").select_option(label="东莞市")
    expect(page.locator("#district_code option").first).to_have_text("（无下级区县）")
    page.locator("#detail").fill("南城街道 8 号")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("address-list")).to_contain_text("广东省 东莞市 南城街道 8 号")

    addresses = Address.objects.filter(user__phone=PHONE)
    assert addresses.count() == 2
    assert addresses.get(is_default=True).district == "浦东新区"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_province_chosen_before_the_picker_script_loads_still_fills_the_cities(signed_in_page) -> None:
    """On a slow network the member may choose a province before the deferred script arrives."""
    from shequn.testing.orders import make_member

    page = signed_in_page(make_member())
    held: list = []
    page.route("**/region-picker*.js", lambda route: held.append(route))  # held until we let it through
    page.goto("/me/addresses/new/", wait_until="commit")
    page.locator("#province_code").select_option(label="浙江省")
    for _ in range(200):
        if held:
            break
        page.wait_for_timeout(25)
    assert held, "the page asked for the region picker script"
    expect(page.locator("#city_code option")).to_have_count(1)  # only the placeholder: no script yet

    held[0].continue_()
    expect(page.locator("#city_code option", has_text="杭州市")).to_have_count(1)
    page.locator("#city_code").select_option(label="杭州市")
    expect(page.locator("#district_code option", has_text="西湖区")).to_have_count(1)
