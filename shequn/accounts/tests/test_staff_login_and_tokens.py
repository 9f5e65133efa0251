"""Staff sign-in by password (rate-limited), logout, and API tokens (hashed, revocable)."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from redis import Redis

from shequn.accounts.actions import do_issue_token, do_revoke_token_value, do_update_profile
from shequn.accounts.auth import LAST_USED_RESOLUTION, hash_token
from shequn.accounts.models import ApiToken, User
from shequn.shops.enums import StaffRole
from shequn.testing.accounts import STAFF_PASSWORD, bearer
from shequn.testing.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_staff_login_redirects_to_console():
    staff = StaffFactory.create(role=StaffRole.OPERATOR)
    client = Client()
    assert client.get("/console/login/").status_code == 200
    response = client.post("/console/login/", {"username": staff.user.username, "password": STAFF_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/console/"
    assert client.get("/console/").status_code == 200


def test_wrong_password_is_refused():
    staff = StaffFactory.create()
    response = Client().post("/console/login/", {"username": staff.user.username, "password": "nope"})
    assert response.status_code == 401
    assert "用户名或密码错误" in response.content.decode()


def test_member_without_staff_role_cannot_use_console_login():
    member = UserFactory.create()
    response = Client().post("/console/login/", {"username": member.username, "password": STAFF_PASSWORD})
    assert response.status_code == 401
    assert "不是店铺员工" in response.content.decode()


def test_inactive_staff_row_cannot_sign_in():
    staff = StaffFactory.create(is_active=False)
    response = Client().post("/console/login/", {"username": staff.user.username, "password": STAFF_PASSWORD})
    assert response.status_code == 401


def test_login_rate_limited_per_ip(settings):
    settings.LOGIN_LIMIT_PER_IP = (3, 600)
    staff = StaffFactory.create()
    client = Client()
    for n in range(3):
        response = client.post("/console/login/", {"username": f"guess{n}", "password": "x"}, REMOTE_ADDR="10.1.1.1")
        assert response.status_code == 401
    response = client.post(
        "/console/login/", {"username": staff.user.username, "password": STAFF_PASSWORD}, REMOTE_ADDR="10.1.1.1"
    )
    assert response.status_code == 429
    # Another address still gets in.
    response = client.post(
        "/console/login/", {"username": staff.user.username, "password": STAFF_PASSWORD}, REMOTE_ADDR="10.1.1.2"
    )
    assert response.status_code == 302


def _sign_in(username: str, password: str, ip: str):
    return Client().post("/console/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_failures_lock_out_the_guessing_address_with_growing_backoff_not_the_staff_member(settings):
    settings.LOGIN_FAILURES_BEFORE_LOCKOUT = 3
    settings.LOGIN_LOCKOUT_BASE_SECONDS = 60
    settings.LOGIN_LOCKOUT_MAX_SECONDS = 3600
    staff = StaffFactory.create()
    username = staff.user.username
    attacker, office = "10.2.0.1", "10.3.0.1"
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(3):
            assert _sign_in(username, "wrong", attacker).status_code == 401
        # The guessing address is locked for a minute, even with the right password...
        response = _sign_in(username, STAFF_PASSWORD, attacker)
        assert response.status_code == 429
        assert "请 1 分钟后再试" in response.content.decode()
        # ...while the staff member, from their own address, signs in.
        assert _sign_in(username, STAFF_PASSWORD, office).status_code == 302
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        assert _sign_in(username, "wrong", attacker).status_code == 401  # the lock is over; one more failure
    with time_machine.travel(start + timedelta(seconds=61 + 61), tick=False):
        # The next lockout is twice as long: two minutes, so still locked a minute later.
        response = _sign_in(username, "wrong", attacker)
        assert response.status_code == 429
        assert "请 1 分钟后再试" in response.content.decode()
        assert _sign_in(username, STAFF_PASSWORD, office).status_code == 302
    with time_machine.travel(start + timedelta(seconds=61 + 121), tick=False):
        assert _sign_in(username, "wrong", attacker).status_code == 401
    with time_machine.travel(start + timedelta(seconds=61 + 121 + 1), tick=False):
        response = _sign_in(username, "wrong", attacker)
        assert response.status_code == 429
        assert "请 4 分钟后再试" in response.content.decode()  # four minutes this time
    with time_machine.travel(start + timedelta(seconds=61 + 121 + 241), tick=False):
        # A successful sign-in from the address forgets its failures: one slip is not a lockout.
        assert _sign_in(username, STAFF_PASSWORD, attacker).status_code == 302
        assert _sign_in(username, "wrong", attacker).status_code == 401
        assert _sign_in(username, STAFF_PASSWORD, attacker).status_code == 302


def test_login_lockout_over_the_api_says_when_to_retry(settings):
    settings.LOGIN_FAILURES_BEFORE_LOCKOUT = 2
    staff = StaffFactory.create()
    body = {"username": staff.user.username, "password": "wrong"}
    client = Client()
    for _ in range(2):
        response = client.post("/api/v1/accounts/tokens", body, content_type="application/json", REMOTE_ADDR="10.4.0.1")
        assert response.status_code == 401
    response = client.post("/api/v1/accounts/tokens", body, content_type="application/json", REMOTE_ADDR="10.4.0.1")
    assert response.status_code == 429
    assert response.json()["code"] == "login_locked"
    assert 0 < response.json()["details"]["retry_after"] <= settings.LOGIN_LOCKOUT_BASE_SECONDS


def test_login_refuses_offsite_next():
    staff = StaffFactory.create()
    response = Client().post(
        "/console/login/",
        {"username": staff.user.username, "password": STAFF_PASSWORD, "next": "//evil.example/x"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/console/"


def test_logout_is_post_only_and_ends_the_session():
    staff = StaffFactory.create()
    client = Client()
    client.force_login(staff.user)
    assert client.get("/logout/").status_code == 405
    response = client.post("/logout/", HTTP_REFERER="http://testserver/console/")
    assert response.status_code == 302
    assert response["Location"] == "/console/login/"
    assert client.get("/console/").status_code == 302


def test_token_auth_works_and_revoked_token_does_not():
    user = UserFactory.create()
    issued = do_issue_token(user, name="phone")
    headers = {"Authorization": f"Bearer {issued.token}"}
    client = Client()
    assert client.get("/api/v1/accounts/me", headers=headers).status_code == 200
    assert ApiToken.objects.get(pk=issued.row.pk).token_hash == hash_token(issued.token)
    response = client.delete(f"/api/v1/accounts/tokens/{issued.row.pk}", headers=headers)
    assert response.status_code == 200
    assert response.json()["revoked_at"]
    response = client.get("/api/v1/accounts/me", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_revoke_current_token():
    user = UserFactory.create()
    token = do_issue_token(user).token
    client = Client()
    assert client.delete("/api/v1/accounts/tokens/current", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 204
    assert client.get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_garbage_token_and_inactive_user_are_401():
    user = UserFactory.create()
    token = do_issue_token(user).token
    client = Client()
    assert client.get("/api/v1/accounts/me", HTTP_AUTHORIZATION="Bearer nonsense").status_code == 401
    user.is_active = False
    user.save()
    assert client.get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_cannot_revoke_someone_elses_token():
    owner, other = UserFactory.create(), UserFactory.create()
    row = do_issue_token(owner).row
    response = Client().delete(f"/api/v1/accounts/tokens/{row.pk}", headers=bearer(other))
    assert response.status_code == 404
    assert ApiToken.objects.get(pk=row.pk).revoked_at is None


def test_staff_token_by_password():
    staff = StaffFactory.create()
    client = Client()
    response = client.post(
        "/api/v1/accounts/tokens",
        {"username": staff.user.username, "password": STAFF_PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert client.get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {token}").json()["id"] == staff.user.pk
    listed = client.get("/api/v1/accounts/tokens", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert listed["count"] == 1
    assert "token_hash" not in listed["items"][0]
    bad = client.post(
        "/api/v1/accounts/tokens", {"username": staff.user.username, "password": "no"}, content_type="application/json"
    )
    assert bad.status_code == 401


def test_token_use_is_recorded_at_most_once_a_minute():
    user = UserFactory.create()
    issued = do_issue_token(user, name="app")
    headers = {"Authorization": f"Bearer {issued.token}"}
    with time_machine.travel("2026-11-22 10:00:00 +0800", tick=False):
        assert Client().get("/api/v1/accounts/me", headers=headers).status_code == 200
        first_use = ApiToken.objects.get(pk=issued.row.pk).last_used_at
        assert first_use is not None
    with time_machine.travel("2026-11-22 10:00:30 +0800", tick=False):
        assert Client().get("/api/v1/accounts/me", headers=headers).status_code == 200
        assert ApiToken.objects.get(pk=issued.row.pk).last_used_at == first_use  # no write this time
    with time_machine.travel("2026-11-22 10:02:00 +0800", tick=False):
        assert Client().get("/api/v1/accounts/me", headers=headers).status_code == 200
        later_use = ApiToken.objects.get(pk=issued.row.pk).last_used_at
        assert later_use is not None
        assert later_use > first_use


def test_a_known_token_reads_no_table_and_a_revoked_one_is_refused_on_the_very_next_request():
    # The caller is cached (accounts.auth) for a minute; revocation, wherever it happens, drops the
    # entry, so no request after it is served from the cache.
    user = UserFactory.create()
    issued = do_issue_token(user, name="app")
    headers = {"Authorization": f"Bearer {issued.token}"}
    client = Client()
    assert client.get("/api/v1/accounts/me", headers=headers).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/accounts/me", headers=headers).status_code == 200
    assert not [query for query in queries.captured_queries if "accounts_apitoken" in query["sql"]]
    do_revoke_token_value(issued.token)  # e.g. signing out on another device, served by another process
    assert client.get("/api/v1/accounts/me", headers=headers).status_code == 401


def test_a_change_to_the_person_reaches_the_next_api_request():
    user = UserFactory.create(nickname="老王")
    headers = {"Authorization": f"Bearer {do_issue_token(user).token}"}
    client = Client()
    assert client.get("/api/v1/accounts/me", headers=headers).json()["nickname"] == "老王"
    do_update_profile(User.objects.get(pk=user.pk), nickname="王师傅")
    assert client.get("/api/v1/accounts/me", headers=headers).json()["nickname"] == "王师傅"
    User.objects.filter(pk=user.pk).update(is_active=False)  # a bulk write: bound by the cache's minute
    with time_machine.travel(timezone.now() + LAST_USED_RESOLUTION + timedelta(seconds=1)):
        assert client.get("/api/v1/accounts/me", headers=headers).status_code == 401


def test_with_redis_a_revocation_removes_the_entry_every_process_reads(redis_url):
    user = UserFactory.create()
    issued = do_issue_token(user)
    headers = {"Authorization": f"Bearer {issued.token}"}
    redis = Redis.from_url(redis_url)
    with override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}}
    ):
        assert Client().get("/api/v1/accounts/me", headers=headers).status_code == 200
        assert redis.keys(f"*apitoken:{hash_token(issued.token)}")
        do_revoke_token_value(issued.token)
        assert not redis.keys(f"*apitoken:{hash_token(issued.token)}")
        assert Client().get("/api/v1/accounts/me", headers=headers).status_code == 401
