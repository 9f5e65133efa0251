"""The official account's access token and jsapi_ticket are fetched by one process at a time: every
web and task process shares them through the database, so none fetches a token that retires the
one another process still uses, and WeChat's fetch limits are not spent on races."""

import logging

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from shequn.testing.postgres import run_at_once
from shequn.testing.wechat import APP_SECRET, wechat
from shequn.wechat import client as wechat_client
from shequn.wechat.models import WechatCredential

__all__ = ["wechat"]

CALLERS = 12
# What each worker process has of its own: a local-memory cache, empty in a process just started.
NO_SHARED_CACHE = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}


@pytest.mark.django_db
def test_a_process_with_an_empty_cache_uses_the_token_another_process_fetched(wechat):
    token = wechat_client.access_token()
    cache.clear()  # another process: nothing in its local cache
    assert wechat_client.access_token() == token
    assert wechat.calls == ["/cgi-bin/token"]
    stored = WechatCredential.objects.get(name="access_token")
    assert token not in stored.value_encrypted  # encrypted at rest


@pytest.mark.django_db
def test_a_refused_token_is_renewed_once_for_every_caller_that_saw_it_refused(wechat):
    refused = wechat_client.access_token()
    renewed = wechat_client.access_token(stale=refused)
    cache.clear()
    # A second process got the same refusal a moment later: it takes the renewed token.
    assert wechat_client.access_token(stale=refused) == renewed != refused
    assert wechat.calls == ["/cgi-bin/token"] * 2


@pytest.mark.django_db
def test_wechat_out_of_reach_is_errcode_minus_one_and_names_no_secret(wechat, settings, caplog):
    """Without the fake, wechatpy goes over the network: a host where nothing listens is an error the
    callers know (errcode -1), nothing is stored, and neither the log nor the error carries the AppSecret."""
    caplog.set_level(logging.DEBUG)
    settings.WECHAT_FAKE = False
    settings.WECHAT_API_BASE = "http://127.0.0.1:9"  # the discard port: nothing answers there

    with pytest.raises(wechat_client.WechatError) as raised:
        wechat_client.access_token()

    assert raised.value.errcode == -1
    assert raised.value.__suppress_context__  # the requests error names the URL, which holds the secret
    assert APP_SECRET not in str(raised.value)
    assert APP_SECRET not in caplog.text
    assert not WechatCredential.objects.exclude(value_encrypted="").exists()
    assert wechat.calls == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_callers_without_a_shared_cache_fetch_the_token_once(wechat, settings):
    assert connection.vendor == "postgresql"
    settings.CACHES = NO_SHARED_CACHE

    first = run_at_once([wechat_client.access_token] * CALLERS)
    assert len(first) == CALLERS
    assert len(set(first)) == 1
    assert wechat.calls == ["/cgi-bin/token"]

    _expire_all()
    second = run_at_once([wechat_client.access_token] * CALLERS)
    assert len(set(second)) == 1
    assert second[0] != first[0]
    assert wechat.calls == ["/cgi-bin/token"] * 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_share_pages_fetch_one_token_and_one_ticket(wechat, settings):
    assert connection.vendor == "postgresql"
    settings.CACHES = NO_SHARED_CACHE

    tickets = run_at_once([wechat_client.jsapi_ticket] * CALLERS)
    assert len(set(tickets)) == 1
    assert wechat.calls == ["/cgi-bin/token", "/cgi-bin/ticket/getticket"]

    _expire_all()
    tickets = run_at_once([wechat_client.jsapi_ticket] * CALLERS)
    assert len(set(tickets)) == 1
    assert wechat.calls == ["/cgi-bin/token", "/cgi-bin/ticket/getticket"] * 2


def _expire_all() -> None:
    """Two hours later: the shared token and ticket have expired."""
    WechatCredential.objects.update(expires_at=timezone.now())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_callers_holding_the_same_refused_token_renew_it_once(wechat, settings):
    assert connection.vendor == "postgresql"
    settings.CACHES = NO_SHARED_CACHE
    refused = wechat_client.access_token()

    renewed = run_at_once([lambda: wechat_client.access_token(stale=refused)] * CALLERS)

    assert len(set(renewed)) == 1
    assert refused not in renewed
    assert wechat.calls == ["/cgi-bin/token"] * 2
