"""Signing in inside WeChat's browser through the fake official account: the whole dance, its refusals."""

import logging
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import Client

from shequn.testing.accounts import sms_outbox
from shequn.testing.factories import UserFactory
from shequn.testing.wechat import APP_ID, APP_SECRET, WECHAT_USER_AGENT, callback_path, wechat, wechat_authorize
from shequn.wechat import client as wechat_client
from shequn.wechat.actions import do_exchange_code
from shequn.wechat.client import mask_openid
from shequn.wechat.models import WechatBinding
from shequn.wechat.selectors import payer_openid

__all__ = ["sms_outbox", "wechat"]

pytestmark = pytest.mark.django_db

PHONE = "13812341234"


def _member(phone: str) -> Any:
    return UserFactory(phone=phone)


def _browser() -> Client:
    return Client(HTTP_USER_AGENT=WECHAT_USER_AGENT)


def _to_wechat(browser: Client, page: str = "/me/") -> str:
    """Open a member page signed out; follow our redirects up to WeChat's authorize URL."""
    response = browser.get(page)
    while response.status_code == 302 and response["Location"].startswith("/"):
        response = browser.get(response["Location"])
    assert response.status_code == 302, response.status_code
    return response["Location"]


def _sign_in_by_phone(browser: Client, sms_outbox: Any, next_url: str) -> Any:
    browser.post("/login/", {"phone": PHONE, "action": "send", "next": next_url})
    return browser.post("/login/", {"phone": PHONE, "code": sms_outbox.last_code(PHONE), "next": next_url})


def _signed_in_user(browser: Client) -> Any:
    return browser.get("/me/").wsgi_request.user


def test_first_time_phone_then_bound_second_time_openid_alone(wechat, sms_outbox, caplog):
    caplog.set_level(logging.DEBUG)
    browser = _browser()
    authorize = _to_wechat(browser, "/me/")
    parts = urlsplit(authorize)
    query = parse_qs(parts.query)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://open.weixin.qq.com/connect/oauth2/authorize"
    assert authorize.endswith("#wechat_redirect")
    assert list(query) == ["appid", "redirect_uri", "response_type", "scope", "state"]  # WeChat's required order
    assert query["appid"] == [APP_ID]
    assert query["redirect_uri"] == ["http://127.0.0.1:8000/wechat/oauth/callback/"]
    assert query["scope"] == ["snsapi_base"]
    assert len(query["state"][0]) <= 128
    assert query["state"][0].isalnum()

    # WeChat knows this person, we do not: the phone proves who they are, once.
    response = browser.get(callback_path(authorize, "alice"))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    page = browser.get(response["Location"])
    assert page.status_code == 200
    assert "验证手机号后，微信将绑定到该账号" in page.content.decode()
    assert not page.wsgi_request.user.is_authenticated
    response = _sign_in_by_phone(browser, sms_outbox, "/me/")
    assert response.status_code == 302
    assert response["Location"] == "/me/"
    member = get_user_model().objects.get(phone=PHONE)
    binding = WechatBinding.objects.get(user=member)
    alice_openid = wechat.openid(APP_ID, "alice")
    assert (binding.app_id, binding.openid, binding.unionid) == (APP_ID, alice_openid, wechat.unionid("alice"))
    assert payer_openid(member) == alice_openid  # what a JSAPI payment will name as payer
    assert "已绑定" in browser.get("/me/").content.decode()

    # Another day, a fresh browser session: WeChat alone signs them in, no code texted.
    texts_before = len(sms_outbox.outbox)
    again = _browser()
    response = again.get(callback_path(_to_wechat(again, "/orders/"), "alice"))
    assert response.status_code == 302
    assert response["Location"] == "/orders/"
    assert _signed_in_user(again) == member
    assert len(sms_outbox.outbox) == texts_before

    # Neither the openid nor the AppSecret ever reached the log; the masked openid did.
    assert alice_openid not in caplog.text
    assert APP_SECRET not in caplog.text
    assert mask_openid(alice_openid) in caplog.text


def test_outside_wechat_the_phone_form_shows_as_before(wechat):
    response = Client().get("/login/")
    assert response.status_code == 200
    assert 'name="phone"' in response.content.decode()


def test_wechat_off_by_default_keeps_the_phone_form_in_wechat(settings):
    assert settings.WECHAT_APP_ID == ""
    response = _browser().get("/login/")
    assert response.status_code == 200
    assert _browser().get("/wechat/oauth/start/").status_code == 404


def test_forged_state_is_refused_before_any_code_is_spent(wechat):
    browser = _browser()
    callback = callback_path(_to_wechat(browser), "alice")
    query = parse_qs(urlsplit(callback).query)
    state = query["state"][0]
    forged = state[:-1] + ("0" if state[-1] != "0" else "1")
    response = browser.get("/wechat/oauth/callback/", {"code": query["code"][0], "state": forged})
    assert response.status_code == 302
    assert "wechat=phone" in response["Location"]
    assert "登录请求无效" in browser.get(response["Location"]).content.decode()
    assert "/sns/oauth2/access_token" not in wechat.calls
    assert not WechatBinding.objects.exists()


def test_state_is_single_use_and_tied_to_the_browser_that_asked(wechat):
    browser = _browser()
    authorize = _to_wechat(browser)
    assert browser.get(callback_path(authorize, "alice"))["Location"].startswith("/login/")
    # The same state again, even with a fresh code from WeChat: refused.
    replay = browser.get(callback_path(authorize, "alice"))
    assert "wechat=phone" in replay["Location"]
    assert "登录请求已使用过" in browser.get(replay["Location"]).content.decode()
    # A state started in the attacker's browser does not sign the victim's browser in.
    attacker = _browser()
    victim = _browser()
    response = victim.get(callback_path(_to_wechat(attacker), "alice"))
    assert "wechat=phone" in response["Location"]
    assert not victim.get(response["Location"]).wsgi_request.user.is_authenticated


def test_expired_state_is_refused(wechat):
    browser = _browser()
    with time_machine.travel("2026-11-01 10:00:00+08:00", tick=False) as traveller:
        authorize = _to_wechat(browser)
        callback = callback_path(authorize, "alice")
        traveller.shift(timedelta(minutes=11))
        response = browser.get(callback)
    assert "wechat=phone" in response["Location"]
    assert "登录请求已过期" in browser.get(response["Location"]).content.decode()


def test_a_code_works_once(wechat, caplog):
    browser = _browser()
    first = urlsplit(callback_path(_to_wechat(browser), "alice")).query
    code = parse_qs(first)["code"][0]
    identity = do_exchange_code(code)
    assert identity.openid == wechat.openid(APP_ID, "alice")
    # The same code through the page (a fresh, valid state): WeChat answers 40163 and we refuse.
    other_state = parse_qs(urlsplit(_to_wechat(browser)).query)["state"][0]
    response = browser.get("/wechat/oauth/callback/", {"code": code, "state": other_state})
    assert "wechat=phone" in response["Location"]
    assert "微信授权已失效" in browser.get(response["Location"]).content.decode()
    assert "errcode 40163" in caplog.text


def test_fake_refuses_what_wechat_refuses(wechat, settings):
    browser = _browser()
    authorize = _to_wechat(browser)
    code = parse_qs(urlsplit(callback_path(authorize, "alice")).query)["code"][0]
    # A code older than five minutes is unknown (40029).
    with time_machine.travel(timedelta(minutes=6)), pytest.raises(wechat_client.WechatError) as expired:
        wechat_client.exchange_code(code)
    assert expired.value.errcode == 40029
    # A wrong AppSecret (40125) or appid (40013).
    code = parse_qs(urlsplit(callback_path(authorize, "alice")).query)["code"][0]
    settings.WECHAT_APP_SECRET = "not-the-secret"
    with pytest.raises(wechat_client.WechatError) as wrong_secret:
        wechat_client.exchange_code(code)
    assert wrong_secret.value.errcode == 40125
    settings.WECHAT_APP_ID = "wx0000000000000000"
    with pytest.raises(wechat_client.WechatError) as wrong_app:
        wechat_client.exchange_code(code)
    assert wrong_app.value.errcode == 40013
    # A redirect_uri outside the account's authorised domain gets WeChat's error page, no code.
    page = wechat_authorize(authorize.replace("127.0.0.1", "evil.example"), "alice")
    assert page.status_code == 200
    assert "10003" in page.text


def test_wrong_secret_sends_the_member_to_phone_sign_in(wechat, settings):
    settings.WECHAT_APP_SECRET = "rotated-and-forgotten"
    browser = _browser()
    response = browser.get(callback_path(_to_wechat(browser), "alice"))
    assert "wechat=phone" in response["Location"]
    page = browser.get(response["Location"])
    assert page.status_code == 200
    assert "微信登录暂不可用，请用手机号登录" in page.content.decode()


def test_userinfo_scope_brings_the_nickname(wechat, settings, sms_outbox):
    settings.WECHAT_OAUTH_SCOPE = "snsapi_userinfo"
    wechat.nicknames["alice"] = "小艾"
    browser = _browser()
    browser.get(callback_path(_to_wechat(browser), "alice"))
    _sign_in_by_phone(browser, sms_outbox, "/me/")
    assert WechatBinding.objects.get().nickname == "小艾"
    assert "已绑定（小艾）" in browser.get("/me/").content.decode()


def test_base_scope_never_asks_for_userinfo(wechat, sms_outbox):
    browser = _browser()
    browser.get(callback_path(_to_wechat(browser), "alice"))
    _sign_in_by_phone(browser, sms_outbox, "/me/")
    assert "/sns/userinfo" not in wechat.calls
    assert WechatBinding.objects.get().nickname == ""


def test_unbind_then_next_visit_asks_for_the_phone_again(wechat, sms_outbox):
    member = _member(phone=PHONE)
    WechatBinding.objects.create(user=member, app_id=APP_ID, openid=wechat.openid(APP_ID, "alice"))
    browser = _browser()
    browser.get(callback_path(_to_wechat(browser), "alice"))
    assert _signed_in_user(browser) == member
    response = browser.post("/me/wechat/unbind/")
    assert response.status_code == 302
    assert not WechatBinding.objects.filter(user=member).exists()
    assert payer_openid(member) == ""
    assert "未绑定" in browser.get("/me/").content.decode()
    fresh = _browser()
    response = fresh.get(callback_path(_to_wechat(fresh), "alice"))
    assert response["Location"].startswith("/login/")
    assert not fresh.get(response["Location"]).wsgi_request.user.is_authenticated


def test_a_signed_in_member_binds_from_their_page_and_an_openid_serves_one_account(wechat):
    member = _member(phone=PHONE)
    browser = _browser()
    browser.force_login(member)
    page = browser.get("/me/").content.decode()
    assert 'data-testid="wechat-bind"' in page
    response = browser.get("/wechat/oauth/start/", {"next": "/me/"})
    assert browser.get(callback_path(response["Location"], "alice"))["Location"] == "/me/"
    assert payer_openid(member) == wechat.openid(APP_ID, "alice")
    # Someone else signed in on a phone where alice's WeChat is open: refused, alice's binding stays.
    other = _member(phone="13900001111")
    intruder = _browser()
    intruder.force_login(other)
    response = intruder.get(callback_path(intruder.get("/wechat/oauth/start/", {"next": "/me/"})["Location"], "alice"))
    assert "该微信已绑定其他账号" in intruder.get(response["Location"]).content.decode()
    assert list(WechatBinding.objects.values_list("user", flat=True)) == [member.pk]


def test_a_declined_authorisation_falls_back_to_the_phone(wechat):
    browser = _browser()
    state = parse_qs(urlsplit(_to_wechat(browser)).query)["state"][0]
    response = browser.get("/wechat/oauth/callback/", {"state": state})  # WeChat sends no code
    assert "wechat=phone" in response["Location"]
    page = browser.get(response["Location"])
    assert page.status_code == 200
    assert 'name="phone"' in page.content.decode()
