"""The one adapter to the WeChat official account's web APIs: web authorisation, the JS-SDK and
subscribe messages (订阅通知).

Talks to ``WECHAT_API_BASE`` over HTTPS, or, with ``WECHAT_FAKE``, to the in-process fake
(``fake.FAKE``) through httpx's WSGI transport, so the same code path runs in tests and the demo.
The AppSecret travels in query strings, as WeChat requires: neither URLs nor httpx's own request
log (silenced in settings.LOGGING) ever reach the log, and errors carry WeChat's errcode only.
"""

import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from shequn.core import secrets as core_secrets

from . import fake
from .models import WechatCredential

logger = logging.getLogger("shequn.wechat")

AUTHORIZE_PATH = "/connect/oauth2/authorize"
# Credentials are renewed this long before WeChat says they expire, so none is used at its last second.
EXPIRY_MARGIN_SECONDS = 300
# WeChat's answers when a cached access token no longer works: renew it once and try again.
STALE_TOKEN_ERRCODES = {40001, 40014, 42001}


class WechatError(Exception):
    """WeChat answered with an errcode (or could not be reached: errcode -1)."""

    def __init__(self, errcode: int, errmsg: str):
        super().__init__(f"WeChat error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


def enabled() -> bool:
    return bool(settings.WECHAT_APP_ID)


def mask_openid(openid: str) -> str:
    """``oAbc****wxyz``: enough to tell two apart in a log, not enough to address a person (PIPL)."""
    if len(openid) <= 8:
        return "****"
    return f"{openid[:4]}****{openid[-4:]}"


def _client() -> httpx.Client:
    transport = httpx.WSGITransport(app=fake.FAKE) if settings.WECHAT_FAKE else None
    return httpx.Client(base_url=settings.WECHAT_API_BASE, transport=transport, timeout=5.0)


def _get(path: str, params: dict[str, str]) -> dict[str, Any]:
    return _call("GET", path, params)


def _call(method: str, path: str, params: dict[str, str], body: dict[str, Any] | None = None) -> dict[str, Any]:
    try:
        with _client() as client:
            response = client.request(method, path, params=params, json=body)
        payload = response.json()
    except (httpx.HTTPError, ValueError) as error:
        # Not chained: an httpx error names the URL, and this URL carries the AppSecret or a token.
        logger.warning("WeChat %s unreachable: %s", path, type(error).__name__)
        raise WechatError(-1, "unreachable") from None
    if not isinstance(payload, dict):
        raise WechatError(-1, "malformed answer")
    errcode = int(payload.get("errcode") or 0)
    if errcode:
        logger.warning("WeChat %s answered errcode %s", path, errcode)
        raise WechatError(errcode, str(payload.get("errmsg", "")))
    return payload


# --- web authorisation (网页授权) ------------------------------------------------------------


def authorize_url(*, redirect_uri: str, scope: str, state: str) -> str:
    # WeChat wants the parameters in exactly this order.
    query = urlencode(
        {
            "appid": settings.WECHAT_APP_ID,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": scope,
            "state": state,
        }
    )
    return f"{settings.WECHAT_OPEN_BASE}{AUTHORIZE_PATH}?{query}#wechat_redirect"


@dataclass(frozen=True)
class WechatIdentity:
    app_id: str
    openid: str
    unionid: str
    scope: str
    nickname: str = ""


def exchange_code(code: str) -> WechatIdentity:
    """Trade the code WeChat appended to our callback for the person's openid (and unionid).

    With scope ``snsapi_userinfo`` the nickname is fetched too: the person agreed to share it.
    """
    answer = _get(
        "/sns/oauth2/access_token",
        {
            "appid": settings.WECHAT_APP_ID,
            "secret": settings.WECHAT_APP_SECRET,
            "code": code,
            "grant_type": "authorization_code",
        },
    )
    openid, scope = str(answer["openid"]), str(answer.get("scope", ""))
    nickname = ""
    if "snsapi_userinfo" in scope.split(","):
        info = _get("/sns/userinfo", {"access_token": str(answer["access_token"]), "openid": openid, "lang": "zh_CN"})
        nickname = str(info.get("nickname", ""))[:64]
    return WechatIdentity(
        app_id=settings.WECHAT_APP_ID,
        openid=openid,
        unionid=str(answer.get("unionid", "")),
        scope=scope,
        nickname=nickname,
    )


# --- JS-SDK ---------------------------------------------------------------------------------------


def _cache_key(name: str) -> str:
    return f"wechat:{name}:{settings.WECHAT_APP_ID}"


def _shared_credential(name: str, fetch: Callable[[], tuple[str, int]], *, stale: str = "") -> str:
    """The credential ``name``, fetched (``fetch`` returns value and ``expires_in``) by one process
    at a time, across every web and task process, on SQLite as on PostgreSQL.

    The local cache answers first; then the shared row, while it is good for more than the margin;
    else its lock (a row lock on PostgreSQL; on SQLite the IMMEDIATE transaction's write lock),
    under which whoever waited reads what the first caller fetched instead of fetching again.
    ``stale``: a value WeChat refused; renew it unless another caller already has. The lock is held
    over the one HTTP call (5 s timeout at most), about once in two hours per credential.
    """
    key = _cache_key(name)
    cached = None if stale else cache.get(key)
    if cached:
        return str(cached)
    app_id = settings.WECHAT_APP_ID
    margin = timedelta(seconds=EXPIRY_MARGIN_SECONDS)
    row = WechatCredential.objects.filter(app_id=app_id, name=name, expires_at__gt=timezone.now() + margin).first()
    value = core_secrets.decrypt(row.value_encrypted) if row is not None else ""
    if not value or value == stale:
        with transaction.atomic():
            placeholder = WechatCredential(app_id=app_id, name=name, expires_at=timezone.now())
            WechatCredential.objects.bulk_create([placeholder], ignore_conflicts=True)
            row = WechatCredential.objects.select_for_update().get(app_id=app_id, name=name)
            value = core_secrets.decrypt(row.value_encrypted) if row.value_encrypted else ""
            if not value or value == stale or row.expires_at <= timezone.now() + margin:
                value, expires_in = fetch()
                row.value_encrypted = core_secrets.encrypt(value)
                row.expires_at = timezone.now() + timedelta(seconds=expires_in)
                row.save(update_fields=["value_encrypted", "expires_at"])
    assert row is not None
    left = (row.expires_at - margin - timezone.now()).total_seconds()
    cache.set(key, value, max(1, int(left)))
    return value


def access_token(*, stale: str = "") -> str:
    """The account's access token (cgi-bin/token), shared until shortly before expiry; ``stale``:
    the token WeChat just refused, renewed once for all callers."""

    def fetch() -> tuple[str, int]:
        answer = _get(
            "/cgi-bin/token",
            {"grant_type": "client_credential", "appid": settings.WECHAT_APP_ID, "secret": settings.WECHAT_APP_SECRET},
        )
        return str(answer["access_token"]), int(answer.get("expires_in", 7200))

    return _shared_credential("access_token", fetch, stale=stale)


def _with_token(call: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    """``call(access_token)``; a shared token WeChat no longer accepts is renewed once for all
    callers, a second refusal raised."""
    token = access_token()
    try:
        return call(token)
    except WechatError as error:
        if error.errcode not in STALE_TOKEN_ERRCODES:
            raise
        return call(access_token(stale=token))


def jsapi_ticket() -> str:
    """The JS-SDK ticket, shared until shortly before expiry (WeChat limits how often it may be fetched).
    Lock order: the ticket's row, then the token's."""

    def fetch() -> tuple[str, int]:
        answer = _with_token(lambda token: _get("/cgi-bin/ticket/getticket", {"access_token": token, "type": "jsapi"}))
        return str(answer["ticket"]), int(answer.get("expires_in", 7200))

    return _shared_credential("jsapi_ticket", fetch)


def jssdk_signature(*, ticket: str, noncestr: str, timestamp: int, url: str) -> str:
    """sha1 of the four fields in name order, raw values, ``url`` without its #fragment (JS-SDK appendix 1)."""
    page = urlunsplit(urlsplit(url)._replace(fragment=""))
    text = f"jsapi_ticket={ticket}&noncestr={noncestr}&timestamp={timestamp}&url={page}"
    return hashlib.sha1(text.encode()).hexdigest()  # noqa: S324  (the algorithm WeChat specifies)


def jssdk_config(url: str) -> dict[str, Any]:
    """What ``wx.config`` needs for the page at ``url`` (appId, timestamp, nonceStr, signature)."""
    noncestr = secrets.token_hex(8)
    timestamp = int(time.time())
    signature = jssdk_signature(ticket=jsapi_ticket(), noncestr=noncestr, timestamp=timestamp, url=url)
    return {"appId": settings.WECHAT_APP_ID, "timestamp": timestamp, "nonceStr": noncestr, "signature": signature}


# --- subscribe messages (订阅通知) ------------------------------------------------------------

SUBSCRIBE_SEND_PATH = "/cgi-bin/message/subscribe/bizsend"
# The member holds no subscription (left) for this template: refused it, or each "accept" is used up.
SUBSCRIPTION_REFUSED = 43101


def send_subscribe_message(*, openid: str, template_id: str, url: str, data: dict[str, dict[str, str]]) -> None:
    """Send one subscribe message of the official account (``bizsend``; ``page`` is the web page a tap
    opens). Raises ``WechatError``: errcode 43101 when the member holds no subscription for it."""
    body = {"touser": openid, "template_id": template_id, "page": url, "data": data}
    _with_token(lambda token: _call("POST", SUBSCRIBE_SEND_PATH, {"access_token": token}, body))
