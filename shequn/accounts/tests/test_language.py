"""Who reads which language (docs/adr/0016-english.md): pages are Chinese unless the person chose
English with the switch; the choice is kept on the account, so texts sent later (the inbox) come
out in it whoever sends them; the API follows the client's Accept-Language."""

from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

from shequn.accounts.models import User
from shequn.core.i18n import language_of
from shequn.notifications.models import Notification
from shequn.testing.orders import api_token, make_member, make_shop, make_sku, paid_order, staff_client

pytestmark = pytest.mark.django_db


def test_a_browser_asking_for_english_still_gets_the_chinese_page() -> None:
    page = Client().get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")

    assert page.status_code == 200
    assert "手机号登录" in page.content.decode()
    assert page["Content-Language"] == "zh-hans"


def test_the_switch_turns_the_pages_english_for_this_browser() -> None:
    browser = Client()

    answer = browser.post("/language/", {"language": "en", "next": "/login/"})

    assert answer.status_code == 302
    assert answer["Location"] == "/login/"
    page = browser.get("/login/").content.decode()
    assert "Sign in with your phone" in page
    assert "手机号登录" not in page


def test_a_signed_in_member_keeps_the_choice_on_the_account_and_a_new_device_follows_it() -> None:
    member = make_member()
    phone = Client()
    phone.force_login(member)

    phone.post("/language/", {"language": "en", "next": "/me/"})

    member.refresh_from_db()
    assert member.language == "en"
    laptop = Client()  # no language cookie here
    laptop.force_login(member)
    assert "Sign out" in laptop.get("/me/").content.decode()


def test_an_unknown_language_changes_nothing() -> None:
    member = make_member()
    browser = Client()
    browser.force_login(member)

    browser.post("/language/", {"language": "xx", "next": "/me/"})

    member.refresh_from_db()
    assert member.language == settings.LANGUAGE_CODE
    assert "退出登录" in browser.get("/me/").content.decode()


def test_the_api_answers_in_the_clients_accept_language() -> None:
    member = make_member()
    token = f"Bearer {api_token(member)}"
    client = Client()

    english = client.get("/api/v1/accounts/addresses/999999", headers={"Authorization": token, "Accept-Language": "en"})
    chinese = client.get("/api/v1/accounts/addresses/999999", headers={"Authorization": token})

    assert english.status_code == chinese.status_code == 404
    assert english.json()["message"] == "Address not found"
    assert chinese.json()["message"] == "地址不存在"


def test_the_inbox_message_of_a_shipped_order_is_in_the_members_language_not_the_staffs() -> None:
    shop = make_shop()
    sku = make_sku(shop)
    english_member = make_member(language="en")
    chinese_member = make_member()
    orders = [paid_order(english_member, sku), paid_order(chinese_member, sku)]
    staff = staff_client(shop)  # the staff member's pages are Chinese

    for order in orders:
        answer = staff.post(
            f"/console/orders/{order.pk}/ship/", {"tracking_company": "顺丰速运", "tracking_number": "SF1234567890"}
        )
        assert answer.status_code == 302

    shipped = {
        message.user_id: message
        for message in Notification.objects.filter(kind="order.shipped", user__in=[english_member, chinese_member])
    }
    assert shipped[english_member.pk].title == "Order shipped"
    assert shipped[english_member.pk].body == "Your order was shipped by 顺丰速运, tracking number SF1234567890."
    assert shipped[chinese_member.pk].title == "订单已发货"
    assert User.objects.get(pk=chinese_member.pk).language == "zh-hans"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_in_the_browser_a_member_switches_to_english_signs_in_and_back_to_chinese(page: Page, sms_outbox: Any) -> None:
    phone = "13812345678"
    page.goto("/login/?next=/me/")
    expect(page.get_by_role("heading", name="手机号登录")).to_be_visible()

    page.get_by_test_id("language-switch").get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Sign in with your phone")).to_be_visible()
    page.locator("#phone").fill(phone)
    page.get_by_test_id("send-code").click()
    expect(page.get_by_text("Code sent to 138****5678, valid for 10 minutes")).to_be_visible()
    page.locator("#code").fill(sms_outbox.last_code(phone))
    page.get_by_test_id("sign-in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert User.objects.get(phone=phone).language == "en"

    page.get_by_test_id("language-switch").get_by_role("button", name="简体中文").click()
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()
    assert User.objects.get(phone=phone).language == "zh-hans"


def test_a_member_loaded_without_the_language_costs_no_query_and_gets_the_default(
    django_assert_num_queries: Any,
) -> None:
    member = make_member(language="en")
    partial = User.objects.only("id").get(pk=member.pk)  # as a batch consumer loads members

    with django_assert_num_queries(0):
        assert language_of(partial) == "zh-hans"
    assert language_of(User.objects.get(pk=member.pk)) == "en"
