"""The one adapter to the WeChat official account's web APIs: web authorisation, the JS-SDK and
subscribe messages (订阅通知), spoken by wechatpy (``WeChatOAuth``, ``WeChatClient``).

wechatpy talks through a requests session: HTTPS to ``WECHAT_API_BASE`` with a 5 s timeout, or,
with ``WECHAT_FAKE``, the in-process fake (``fake.FAKE``) through ``fake.WsgiAdapter``, so the same
code path runs in tests and the demo. What wechatpy leaves to us stays here (ADR 0015): the token
and the ticket shared by every process under one row lock (wechatpy's session storage is per
process), a refused token renewed once for all callers (wechatpy's own retry would renew it in
each process, without end), and WeChat's errors mapped to ``WechatError``. The AppSecret travels
in query strings, as WeChat requires: neither URLs nor urllib3's request log (silenced in
settings.LOGGING) ever reach the log, and errors carry WeChat's errcode only.
"""

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from wechatpy import WeChatClient, WeChatOAuth
from wechatpy.client.api import WeChatJSAPI
from wechatpy.exceptions import WeChatException

from shequn.core import secrets as core_secrets

from . import fake
from .models import WechatCredential

logger = logging.getLogger("shequn.wechat")

# Credentials are renewed this long before WeChat says they expire, so none is used at its last second.
EXPIRY_MARGIN_SECONDS = 300
# WeChat's answers when a cached access token no longer works: renew it once and try again.
STALE_TOKEN_ERRCODES = {40001, 40014, 42001}
TIMEOUT_SECONDS = 5.0


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


class _TimeoutAdapter(requests.adapters.HTTPAdapter):
    """HTTPS with a timeout on every call: wechatpy passes none for token fetches and OAuth."""

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        return super().send(request, stream, timeout or TIMEOUT_SECONDS, verify, cert, proxies)


def _http_session() -> requests.Session:
    session = requests.Session()
    adapter = fake.WsgiAdapter(fake.FAKE) if settings.WECHAT_FAKE else _TimeoutAdapter()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class _AccountClient(WeChatClient):
    """wechatpy's client of the official account, at ``WECHAT_API_BASE`` through our session.

    ``auto_retry`` is off: a refused token is renewed by ``_with_token``, once, under the row lock.
    """

    def __init__(self, access_token: str | None = None):
        super().__init__(
            settings.WECHAT_APP_ID,
            settings.WECHAT_APP_SECRET,
            access_token=access_token,
            timeout=TIMEOUT_SECONDS,
            auto_retry=False,
        )
        self.API_BASE_URL = f"{settings.WECHAT_API_BASE}/cgi-bin/"
        self._http = _http_session()

    def __enter__(self) -> "_AccountClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()

    def fetch_access_token(self) -> dict[str, Any]:
        # wechatpy's own fetch names api.weixin.qq.com outright; this one follows WECHAT_API_BASE.
        params = {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}
        return dict(self._fetch_access_token(url=f"{self.API_BASE_URL}token", params=params))


def _oauth(*, redirect_uri: str = "", scope: str = "snsapi_base", state: str = "") -> WeChatOAuth:
    oauth = WeChatOAuth(settings.WECHAT_APP_ID, settings.WECHAT_APP_SECRET, redirect_uri, scope, state)
    oauth.API_BASE_URL = f"{settings.WECHAT_API_BASE}/"
    oauth.OAUTH_BASE_URL = f"{settings.WECHAT_OPEN_BASE}/connect/"
    oauth._http = _http_session()
    return oauth


def _call(what: str, call: Callable[[], Any]) -> dict[str, Any]:
    """One wechatpy call, its failures as ``WechatError``: never chained, since wechatpy's and
    requests' exceptions carry the request, whose URL carries the AppSecret or a token."""
    try:
        answer = call()
    except WeChatException as error:
        errcode = int(error.errcode) if error.errcode is not None else -1
        logger.warning("WeChat %s answered errcode %s", what, errcode)
        raise WechatError(errcode, str(error.errmsg or "")) from None
    except (requests.RequestException, ValueError, KeyError) as error:
        logger.warning("WeChat %s unreachable or malformed: %s", what, type(error).__name__)
        raise WechatError(-1, "unreachable") from None
    if not isinstance(answer, dict):  # wechatpy hands back the response itself when it is not JSON
        raise WechatError(-1, "malformed answer")
    return answer


# --- web authorisation (网页授权) ------------------------------------------------------------


def authorize_url(*, redirect_uri: str, scope: str, state: str) -> str:
    return str(_oauth(redirect_uri=redirect_uri, scope=scope, state=state).authorize_url)


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
    oauth = _oauth()
    try:
        answer = _call("/sns/oauth2/access_token", lambda: oauth.fetch_access_token(code))
        openid, scope = str(answer["openid"]), str(answer.get("scope", ""))
        nickname = ""
        if "snsapi_userinfo" in scope.split(","):
            info = _call("/sns/userinfo", oauth.get_user_info)
            nickname = str(info.get("nickname", ""))[:64]
    finally:
        oauth._http.close()
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
        with _AccountClient() as client:
            answer = _call("/cgi-bin/token", client.fetch_access_token)
        return str(answer["access_token"]), int(answer.get("expires_in", 7200))

    return _shared_credential("access_token", fetch, stale=stale)


def _with_token(what: str, call: Callable[[_AccountClient], Any]) -> dict[str, Any]:
    """``call(client)`` with the shared token; a token WeChat no longer accepts is renewed once for
    all callers, a second refusal raised."""
    token = access_token()
    try:
        with _AccountClient(token) as client:
            return _call(what, lambda: call(client))
    except WechatError as error:
        if error.errcode not in STALE_TOKEN_ERRCODES:
            raise
    with _AccountClient(access_token(stale=token)) as client:
        return _call(what, lambda: call(client))


def jsapi_ticket() -> str:
    """The JS-SDK ticket, shared until shortly before expiry (WeChat limits how often it may be fetched).
    Lock order: the ticket's row, then the token's."""

    def fetch() -> tuple[str, int]:
        answer = _with_token("/cgi-bin/ticket/getticket", lambda client: client.jsapi.get_ticket("jsapi"))
        return str(answer["ticket"]), int(answer.get("expires_in", 7200))

    return _shared_credential("jsapi_ticket", fetch)


def jssdk_signature(*, ticket: str, noncestr: str, timestamp: int, url: str) -> str:
    """wechatpy's sha1 over the four fields in name order (JS-SDK appendix 1), for ``url`` without its
    #fragment, which WeChat leaves out and wechatpy does not strip."""
    page = urlunsplit(urlsplit(url)._replace(fragment=""))
    return str(WeChatJSAPI().get_jsapi_signature(noncestr, ticket, timestamp, page))


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
    _with_token(
        SUBSCRIBE_SEND_PATH,
        lambda client: client.message.send_subscribe_message(openid, template_id, data, page=url),
    )
