"""WeChat's side of web authorisation and the JS-SDK, played locally as a WSGI application.

It answers the paths of open.weixin.qq.com and api.weixin.qq.com as WeChat documents them:

- ``GET /connect/oauth2/authorize`` (what WeChat's browser opens): checks appid, scope and the
  redirect domain, then redirects to ``redirect_uri?code=…&state=…`` for the WeChat user signed
  in on the phone (the ``wechat_user`` cookie here), or shows WeChat's error page;
- ``GET /sns/oauth2/access_token``: a code works once (40163 after), for 5 minutes (40029 after,
  as for any unknown code); wrong appid 40013, wrong secret 40125;
- ``GET /sns/userinfo``: only for a token of scope ``snsapi_userinfo`` (48001 otherwise);
- ``GET /cgi-bin/token`` and ``GET /cgi-bin/ticket/getticket?type=jsapi``: 7200-second
  credentials; an unknown token is 40001, an expired one 42001;
- ``POST /cgi-bin/message/subscribe/bizsend`` (订阅通知): 40037 for a template the account does not
  have, 40003 for a malformed openid, 47003 for empty data, a keyword the template does not have
  (``subscribe_templates`` holds each template's keywords) or a value beyond its field type's
  limit (thing 20 characters, phrase 5 …), 43101 when the person holds no subscription for the
  template (each "accept" in the subscribe dialog allows one message, ``accept_subscription``);
  ``fail_sends`` queues errcodes (e.g. -1 system busy) for the next sends; ``sent`` records each
  message delivered.

Errors are HTTP 200 with ``{"errcode": …, "errmsg": …}``, as WeChat answers. Times come from
``time.time()`` so tests move them with time-machine. ``calls`` records each API path called.
``WsgiAdapter`` is how wechatpy's requests session reaches it in this process.
"""

import hashlib
import io
import itertools
import json
import re
import secrets
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import requests
from urllib3 import HTTPResponse

CODE_TTL_SECONDS = 5 * 60
TOKEN_TTL_SECONDS = 7200
SCOPES = {"snsapi_base", "snsapi_userinfo"}
OPENID_PATTERN = re.compile(r"^[0-9A-Za-z_-]{28}$")
# Subscribe message field types → the most characters a value may have (WeChat's 参数值内容限制).
FIELD_LIMITS = {"thing": 20, "character_string": 32, "number": 32, "letter": 32, "symbol": 5, "phrase": 5, "name": 10}

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


@dataclass
class FakeApp:
    """An official account as registered with WeChat."""

    secret: str
    oauth_domain: str  # 网页授权域名: the host redirect_uri must have
    unionid: bool = True  # bound to an open-platform account, so answers carry unionid


@dataclass
class _Grant:
    app_id: str
    openid: str
    person: str
    scope: str
    expires_at: float
    used: bool = False


@dataclass
class FakeWechat:
    apps: dict[str, FakeApp] = field(default_factory=dict)
    nicknames: dict[str, str] = field(default_factory=dict)  # person → WeChat nickname
    codes: dict[str, _Grant] = field(default_factory=dict)
    sns_tokens: dict[str, _Grant] = field(default_factory=dict)
    tokens: dict[str, tuple[str, float]] = field(default_factory=dict)  # access_token → (app_id, expiry)
    calls: list[str] = field(default_factory=list)
    # Template ids the account has picked → each template's keywords (thing1, character_string2 …).
    subscribe_templates: dict[str, set[str]] = field(default_factory=dict)
    subscriptions: Counter[tuple[str, str]] = field(default_factory=Counter)  # (openid, template id) → sends left
    failures: list[int] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    _msgids: Iterator[int] = field(default_factory=lambda: itertools.count(2_000_000_000))

    def reset(self) -> None:
        self.apps.clear()
        self.nicknames.clear()
        self.codes.clear()
        self.sns_tokens.clear()
        self.tokens.clear()
        self.calls.clear()
        self.subscribe_templates.clear()
        self.subscriptions.clear()
        self.failures.clear()
        self.sent.clear()

    def accept_subscription(self, openid: str, template_id: str, times: int = 1) -> None:
        """The person tapped "accept" for this template in WeChat's subscribe dialog (WeChat keeps the count)."""
        self.subscriptions[(openid, template_id)] += times

    def fail_sends(self, *errcodes: int) -> None:
        self.failures.extend(errcodes)

    def openid(self, app_id: str, person: str) -> str:
        """A person's openid under one app: stable, 28 characters, different in every app."""
        return "o" + hashlib.sha256(f"openid:{app_id}:{person}".encode()).hexdigest()[:27]

    def unionid(self, person: str) -> str:
        return "u" + hashlib.sha256(f"unionid:{person}".encode()).hexdigest()[:27]

    # --- the WSGI application -----------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        query = {key: values[0] for key, values in parse_qs(environ.get("QUERY_STRING", "")).items()}
        if path == "/connect/oauth2/authorize":
            cookie = SimpleCookie(environ.get("HTTP_COOKIE", ""))
            person = cookie["wechat_user"].value if "wechat_user" in cookie else ""
            return self._authorize(query, person, start_response)
        self.calls.append(path)
        routes: dict[str, Callable[[dict[str, str]], dict[str, Any]]] = {
            "/sns/oauth2/access_token": self._sns_access_token,
            "/sns/userinfo": self._sns_userinfo,
            "/cgi-bin/token": self._token,
            "/cgi-bin/ticket/getticket": self._ticket,
        }
        if environ.get("REQUEST_METHOD") == "POST" and path == "/cgi-bin/message/subscribe/bizsend":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            payload = self._bizsend(query, environ["wsgi.input"].read(length))
        else:
            handler = routes.get(path)
            payload = handler(query) if handler else _error(404, "not found")
        body = json.dumps(payload, ensure_ascii=False).encode()
        start_response("200 OK", [("Content-Type", "application/json; encoding=utf-8")])
        return [body]

    def _authorize(self, query: dict[str, str], person: str, start_response: StartResponse) -> Iterable[bytes]:
        app_id, scope, state = query.get("appid", ""), query.get("scope", ""), query.get("state", "")
        redirect_uri = query.get("redirect_uri", "")
        app = self.apps.get(app_id)
        problem = ""
        if app is None:
            problem = "10016 appid 参数错误"
        elif not redirect_uri or urlsplit(redirect_uri).hostname != app.oauth_domain:
            problem = "10003 redirect_uri 域名与后台配置不一致"
        elif scope not in SCOPES:
            problem = "10005 此公众号并没有这些scope的权限"
        elif query.get("response_type") != "code":
            problem = "10004 response_type 参数错误"
        elif not person:
            problem = "请在微信客户端打开链接"
        if problem:
            start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
            return [f"<html><body><p class='weui-msg'>{problem}</p></body></html>".encode()]
        code = secrets.token_hex(16)
        self.codes[code] = _Grant(app_id, self.openid(app_id, person), person, scope, time.time() + CODE_TTL_SECONDS)
        separator = "&" if "?" in redirect_uri else "?"
        location = f"{redirect_uri}{separator}{urlencode({'code': code, 'state': state})}"
        start_response("302 Found", [("Location", location), ("Content-Length", "0")])
        return [b""]

    # --- the API --------------------------------------------------------------------------

    def _check_app(self, query: dict[str, str]) -> dict[str, Any] | None:
        app = self.apps.get(query.get("appid", ""))
        if app is None:
            return _error(40013, "invalid appid")
        if not secrets.compare_digest(app.secret, query.get("secret", "")):
            return _error(40125, "invalid appsecret")
        return None

    def _sns_access_token(self, query: dict[str, str]) -> dict[str, Any]:
        problem = self._check_app(query)
        if problem:
            return problem
        if query.get("grant_type") != "authorization_code":
            return _error(40002, "invalid grant_type")
        if not query.get("code"):
            return _error(41008, "missing code")
        grant = self.codes.get(query["code"])
        if grant is None or grant.app_id != query["appid"] or grant.expires_at <= time.time():
            return _error(40029, "invalid code")
        if grant.used:
            return _error(40163, "code been used")
        grant.used = True
        access_token = secrets.token_urlsafe(48)
        self.sns_tokens[access_token] = _Grant(
            grant.app_id, grant.openid, grant.person, grant.scope, time.time() + TOKEN_TTL_SECONDS
        )
        answer: dict[str, Any] = {
            "access_token": access_token,
            "expires_in": TOKEN_TTL_SECONDS,
            "refresh_token": secrets.token_urlsafe(48),
            "openid": grant.openid,
            "scope": grant.scope,
        }
        if self.apps[grant.app_id].unionid:
            answer["unionid"] = self.unionid(grant.person)
        return answer

    def _sns_userinfo(self, query: dict[str, str]) -> dict[str, Any]:
        grant = self.sns_tokens.get(query.get("access_token", ""))
        if grant is None or grant.openid != query.get("openid"):
            return _error(40001, "invalid credential, access_token is invalid or not latest")
        if grant.expires_at <= time.time():
            return _error(42001, "access_token expired")
        if grant.scope != "snsapi_userinfo":
            return _error(48001, "api unauthorized")
        answer: dict[str, Any] = {
            "openid": grant.openid,
            "nickname": self.nicknames.get(grant.person, "微信用户"),
            "sex": 0,
            "province": "",
            "city": "",
            "country": "",
            "headimgurl": f"https://thirdwx.qlogo.cn/mmopen/{grant.openid}/132",
            "privilege": [],
        }
        if self.apps[grant.app_id].unionid:
            answer["unionid"] = self.unionid(grant.person)
        return answer

    def _token(self, query: dict[str, str]) -> dict[str, Any]:
        if query.get("grant_type") != "client_credential":
            return _error(40002, "invalid grant_type")
        problem = self._check_app(query)
        if problem:
            return problem
        access_token = secrets.token_urlsafe(96)
        self.tokens[access_token] = (query["appid"], time.time() + TOKEN_TTL_SECONDS)
        return {"access_token": access_token, "expires_in": TOKEN_TTL_SECONDS}

    def _ticket(self, query: dict[str, str]) -> dict[str, Any]:
        held = self.tokens.get(query.get("access_token", ""))
        if held is None:
            return _error(40001, "invalid credential, access_token is invalid or not latest")
        if held[1] <= time.time():
            return _error(42001, "access_token expired")
        if query.get("type") != "jsapi":
            return _error(40097, "invalid args")
        return {"errcode": 0, "errmsg": "ok", "ticket": secrets.token_urlsafe(64), "expires_in": TOKEN_TTL_SECONDS}

    def _bizsend(self, query: dict[str, str], content: bytes) -> dict[str, Any]:
        held = self.tokens.get(query.get("access_token", ""))
        if held is None:
            return _error(40001, "invalid credential, access_token is invalid or not latest")
        if held[1] <= time.time():
            return _error(42001, "access_token expired")
        try:
            message = json.loads(content)
        except ValueError:
            return _error(47001, "data format error")
        if self.failures:
            return _error(self.failures.pop(0), "system error")
        template_id, openid = message.get("template_id"), str(message.get("touser", ""))
        if template_id not in self.subscribe_templates:
            return _error(40037, "invalid template_id")
        if not OPENID_PATTERN.match(openid):
            return _error(40003, "invalid openid")
        data = message.get("data")
        if not isinstance(data, dict) or not data:
            return _error(47003, "argument invalid! data is empty")
        for key, item in data.items():
            if key not in self.subscribe_templates[template_id]:
                return _error(47003, f"argument invalid! data.{key} is not a keyword of the template")
            value = str(item.get("value", "")) if isinstance(item, dict) else ""
            limit = FIELD_LIMITS.get(key.rstrip("0123456789"))
            if not value or (limit is not None and len(value) > limit):
                return _error(47003, f"argument invalid! data.{key}.value invalid")
        if self.subscriptions[(openid, template_id)] <= 0:
            return _error(43101, "user refuse to accept the msg")
        self.subscriptions[(openid, template_id)] -= 1
        self.sent.append(message)
        return {"errcode": 0, "errmsg": "ok", "msgid": next(self._msgids)}

    def revoke_tokens(self) -> None:
        """What resetting the AppSecret or another server fetching tokens does: ours stop working."""
        self.tokens.clear()


def _error(errcode: int, errmsg: str) -> dict[str, Any]:
    return {"errcode": errcode, "errmsg": f"{errmsg} rid: {secrets.token_hex(4)}-{secrets.token_hex(4)}"}


FAKE = FakeWechat()


class WsgiAdapter(requests.adapters.HTTPAdapter):
    """requests' transport to a WSGI application in this process (what ``httpx.WSGITransport`` is
    to httpx): the request becomes a WSGI environ, the answer a urllib3 response, no socket."""

    def __init__(self, app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]]):
        super().__init__()
        self.app = app

    def send(self, request: Any, *args: Any, **kwargs: Any) -> requests.Response:
        url = urlsplit(request.url)
        body = request.body or b""
        body = body.encode() if isinstance(body, str) else body
        environ = {
            "REQUEST_METHOD": request.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote(url.path),
            "QUERY_STRING": url.query,
            "SERVER_NAME": url.hostname or "localhost",
            "SERVER_PORT": str(url.port or (443 if url.scheme == "https" else 80)),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "CONTENT_TYPE": request.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": url.scheme,
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        if "Cookie" in request.headers:
            environ["HTTP_COOKIE"] = request.headers["Cookie"]
        answered: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            answered[:] = [status, headers]

        content = b"".join(self.app(environ, start_response))
        status, headers = answered
        raw = HTTPResponse(
            body=io.BytesIO(content),
            headers=headers,
            status=int(status.split(" ", 1)[0]),
            reason=status.split(" ", 1)[1],
            preload_content=False,
        )
        return self.build_response(request, raw)
