"""Member sign-in by phone + one-time code: single use, expiry, brute force, floods."""

import json
import logging
from datetime import timedelta
from typing import Any

import httpx
import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from shequn.accounts.actions import do_send_otp, do_verify_otp, hash_code, member_username
from shequn.accounts.models import ApiToken, OtpCode, User
from shequn.accounts.sms import HttpSmsBackend, code_message
from shequn.accounts.tasks import purge_old_otp_codes
from shequn.core.errors import DomainError, InvalidInput

pytestmark = pytest.mark.django_db

PHONE = "13812341234"
SEND = "/api/v1/accounts/otp/send"
VERIFY = "/api/v1/accounts/otp/verify"


def _post(client: Client, url: str, body: dict, ip: str = "10.0.0.1"):
    return client.post(url, body, content_type="application/json", REMOTE_ADDR=ip)


def test_first_sign_in_creates_member_and_returns_working_token(sms_outbox):
    client = Client()
    assert _post(client, SEND, {"phone": "+86 138-1234-1234"}).status_code == 200
    code = sms_outbox.last_code(PHONE)
    response = _post(client, VERIFY, {"phone": PHONE, "code": code})
    assert response.status_code == 200, response.content
    body = response.json()
    user = User.objects.get(phone=PHONE)
    assert body["user"] == {"id": user.pk, "username": user.username, "nickname": "用户1234", "phone": PHONE}
    assert user.username == member_username(PHONE)
    assert PHONE not in user.username
    me = client.get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert me.status_code == 200
    assert me.json()["id"] == user.pk
    assert ApiToken.objects.get(user=user).token_hash != body["token"]  # stored hashed


def test_second_sign_in_reuses_the_member(sms_outbox):
    do_send_otp(PHONE, ip=None)
    first = do_verify_otp(PHONE, sms_outbox.last_code(PHONE), ip=None)
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        do_send_otp(PHONE, ip=None)
        second = do_verify_otp(PHONE, sms_outbox.last_code(PHONE), ip=None)
    assert first.pk == second.pk
    assert User.objects.filter(phone=PHONE).count() == 1


def test_code_is_stored_hashed_and_never_in_clear(sms_outbox):
    do_send_otp(PHONE, ip="10.0.0.1")
    code = sms_outbox.last_code(PHONE)
    row = OtpCode.objects.get(phone=PHONE)
    assert row.code_hash == hash_code(PHONE, code)
    assert code not in row.code_hash
    assert abs(row.expires_at - row.created_at - timedelta(minutes=10)) < timedelta(seconds=1)


def test_code_reuse_is_refused(sms_outbox):
    do_send_otp(PHONE, ip=None)
    code = sms_outbox.last_code(PHONE)
    do_verify_otp(PHONE, code, ip=None)
    with pytest.raises(InvalidInput) as error:
        do_verify_otp(PHONE, code, ip=None)
    assert error.value.code == "otp_invalid"


def test_expired_code_is_refused(sms_outbox):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        do_send_otp(PHONE, ip=None)
    code = sms_outbox.last_code(PHONE)
    late = start + timedelta(minutes=10, seconds=1)
    with time_machine.travel(late, tick=False), pytest.raises(InvalidInput) as error:
        do_verify_otp(PHONE, code, ip=None)
    assert error.value.code == "otp_invalid"
    assert not User.objects.filter(phone=PHONE).exists()


def test_code_still_works_just_before_expiry(sms_outbox):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        do_send_otp(PHONE, ip=None)
    with time_machine.travel(start + timedelta(minutes=9, seconds=59), tick=False):
        assert do_verify_otp(PHONE, sms_outbox.last_code(PHONE), ip=None).phone == PHONE


def test_brute_force_burns_the_code(sms_outbox, settings):
    do_send_otp(PHONE, ip=None)
    code = sms_outbox.last_code(PHONE)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for attempt in range(settings.OTP_MAX_ATTEMPTS):
        with pytest.raises(InvalidInput) as error:
            do_verify_otp(PHONE, wrong, ip=None)
        expected = "otp_burnt" if attempt == settings.OTP_MAX_ATTEMPTS - 1 else "otp_wrong"
        assert error.value.code == expected
    assert OtpCode.objects.get(phone=PHONE).failed_attempts == settings.OTP_MAX_ATTEMPTS
    # Even the right code no longer works.
    with pytest.raises(InvalidInput) as error:
        do_verify_otp(PHONE, code, ip=None)
    assert error.value.code == "otp_invalid"


def test_verify_attempts_per_phone_and_ip_are_limited_across_codes(sms_outbox, settings):
    settings.OTP_VERIFY_LIMIT_PER_PHONE_AND_IP = (3, 3600)
    client = Client()
    for _ in range(3):
        assert _post(client, VERIFY, {"phone": PHONE, "code": "000000"}, ip="10.6.6.6").status_code == 422
    response = _post(client, VERIFY, {"phone": PHONE, "code": "000000"}, ip="10.6.6.6")
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    # The guesser's address is refused; the member, from their own, still signs in with their code.
    assert _post(client, SEND, {"phone": PHONE}, ip="10.0.0.8").status_code == 200
    response = _post(client, VERIFY, {"phone": PHONE, "code": sms_outbox.last_code(PHONE)}, ip="10.0.0.8")
    assert response.status_code == 200, response.content


def test_guesses_from_many_addresses_still_burn_the_code(sms_outbox, settings):
    do_send_otp(PHONE, ip=None)
    code = sms_outbox.last_code(PHONE)
    wrong = "000000" if code != "000000" else "111111"
    # One wrong guess from each of many addresses: the per-code cap holds however the guesses are spread.
    for n in range(settings.OTP_MAX_ATTEMPTS):
        response = _post(Client(), VERIFY, {"phone": PHONE, "code": wrong}, ip=f"10.7.0.{n}")
        assert response.status_code == 422
    response = _post(Client(), VERIFY, {"phone": PHONE, "code": code}, ip="10.7.1.1")
    assert response.status_code == 422
    assert response.json()["code"] == "otp_invalid"


def test_only_the_newest_code_works(sms_outbox):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        do_send_otp(PHONE, ip=None)
    old = sms_outbox.last_code(PHONE)
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        do_send_otp(PHONE, ip=None)
        new = sms_outbox.last_code(PHONE)
        if old != new:
            with pytest.raises(InvalidInput):
                do_verify_otp(PHONE, old, ip=None)
        assert do_verify_otp(PHONE, new, ip=None).phone == PHONE


def test_resend_interval_is_enforced(sms_outbox):
    client = Client()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert _post(client, SEND, {"phone": PHONE}).status_code == 200
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        response = _post(client, SEND, {"phone": PHONE})
        assert response.status_code == 429
        assert response.json()["code"] == "otp_resend_too_soon"
        assert response.json()["details"]["retry_after"] == 30
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        assert _post(client, SEND, {"phone": PHONE}).status_code == 200
    assert len(sms_outbox.outbox) == 2


def test_send_flood_per_phone_and_ip_is_refused_but_does_not_lock_the_member_out(sms_outbox, settings):
    limit = settings.OTP_SEND_LIMIT_PER_PHONE_AND_IP[0]
    client = Client()
    start = timezone.now()
    for n in range(limit):
        with time_machine.travel(start + timedelta(seconds=61 * n), tick=False):
            assert _post(client, SEND, {"phone": PHONE}, ip="10.0.1.1").status_code == 200
    with time_machine.travel(start + timedelta(seconds=61 * limit), tick=False):
        response = _post(client, SEND, {"phone": PHONE}, ip="10.0.1.1")
        assert response.status_code == 429
        assert response.json()["code"] == "rate_limited"
        assert len(sms_outbox.outbox) == limit
        # The member asking from their own address still gets a code.
        assert _post(client, SEND, {"phone": PHONE}, ip="10.0.2.1").status_code == 200
    assert len(sms_outbox.outbox) == limit + 1


def test_send_flood_per_ip_is_refused(sms_outbox, settings):
    limit = settings.OTP_SEND_LIMIT_PER_IP[0]
    client = Client()
    for n in range(limit):
        assert _post(client, SEND, {"phone": f"139{n:08d}"}, ip="10.9.9.9").status_code == 200
    response = _post(client, SEND, {"phone": "13712345678"}, ip="10.9.9.9")
    assert response.status_code == 429
    assert len(sms_outbox.outbox) == limit
    # Another address is not affected.
    assert _post(client, SEND, {"phone": "13712345678"}, ip="10.9.9.10").status_code == 200


def test_invalid_phone_and_malformed_code_are_422(sms_outbox):
    client = Client()
    response = _post(client, SEND, {"phone": "12345"})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_phone"
    response = _post(client, VERIFY, {"phone": PHONE, "code": "12ab"})
    assert response.status_code == 422
    assert response.json()["code"] == "otp_malformed"
    assert sms_outbox.outbox == []


def test_console_backend_logs_masked_phone(settings, caplog):
    settings.SMS_BACKEND = "shequn.accounts.sms.ConsoleSmsBackend"
    with caplog.at_level(logging.INFO, logger="shequn.sms"):
        do_send_otp(PHONE, ip=None)
    text = caplog.text
    assert "138****1234" in text
    assert PHONE not in text


def test_disabled_member_cannot_sign_in(sms_outbox):
    User.objects.create_user(username="someone", phone=PHONE, is_active=False)
    do_send_otp(PHONE, ip=None)
    with pytest.raises(InvalidInput) as error:
        do_verify_otp(PHONE, sms_outbox.last_code(PHONE), ip=None)
    assert error.value.code == "account_disabled"


def test_login_page_signs_in_with_a_session_and_follows_next(sms_outbox):
    client = Client()
    page = client.get("/login/?next=/me/")
    assert page.status_code == 200
    assert "获取验证码" in page.content.decode()
    sent = client.post("/login/", {"phone": PHONE, "action": "send", "next": "/me/"})
    assert sent.status_code == 200
    assert "138****1234" in sent.content.decode()
    response = client.post(
        "/login/", {"phone": PHONE, "code": sms_outbox.last_code(PHONE), "action": "verify", "next": "/me/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/me/"
    assert client.get("/me/").status_code == 200


def test_login_page_refuses_foreign_next_and_shows_errors(sms_outbox):
    client = Client()
    client.post("/login/", {"phone": PHONE, "action": "send"})
    wrong = client.post("/login/", {"phone": PHONE, "code": "000000", "action": "verify"})
    if sms_outbox.last_code(PHONE) != "000000":
        assert wrong.status_code == 422
        assert "验证码错误" in wrong.content.decode()
    response = client.post(
        "/login/",
        {"phone": PHONE, "code": sms_outbox.last_code(PHONE), "action": "verify", "next": "https://evil.example/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_login_page_send_flood_is_429(sms_outbox, settings):
    settings.OTP_SEND_LIMIT_PER_IP = (2, 3600)
    client = Client()
    for n in range(2):
        assert client.post("/login/", {"phone": f"1390000000{n}", "action": "send"}).status_code == 200
    response = client.post("/login/", {"phone": "13900000009", "action": "send"})
    assert response.status_code == 429
    assert "操作太频繁" in response.content.decode()


def test_old_codes_are_purged(sms_outbox):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        do_send_otp(PHONE, ip=None)
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        do_send_otp("13900001111", ip=None)
    with time_machine.travel(start + timedelta(days=1, minutes=11), tick=False):
        purge_old_otp_codes()  # runs inline under pytest; twice is harmless
        purge_old_otp_codes()
    assert list(OtpCode.objects.values_list("phone", flat=True)) == ["13900001111"]


def test_http_sms_backend_posts_the_message_to_the_relay(settings, monkeypatch):
    settings.SMS_HTTP_URL = "https://sms-relay.internal/send"
    settings.SMS_HTTP_TOKEN = "relay-token"
    seen: list[httpx.Request] = []

    def relay(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204 if len(seen) == 1 else 503)

    def post(url: str, **kwargs: Any) -> httpx.Response:
        with httpx.Client(transport=httpx.MockTransport(relay)) as client:
            return client.post(url, **kwargs)

    monkeypatch.setattr(httpx, "post", post)
    HttpSmsBackend().send_code(PHONE, "123456", ttl_minutes=10)
    assert str(seen[0].url) == "https://sms-relay.internal/send"
    assert seen[0].headers["Authorization"] == "Bearer relay-token"
    assert json.loads(seen[0].read()) == {"phone": PHONE, "message": code_message("123456", 10)}
    # A relay that fails is a failed send: the member is told, and the code cannot be used.
    settings.SMS_BACKEND = "shequn.accounts.sms.HttpSmsBackend"
    with pytest.raises(DomainError) as error:
        do_send_otp(PHONE, ip=None)
    assert error.value.code == "sms_failed"
    assert not OtpCode.objects.filter(phone=PHONE, expires_at__gt=timezone.now()).exists()
