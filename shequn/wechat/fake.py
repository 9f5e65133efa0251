"""WeChat's side of web authorisation and the JS-SDK, played locally as a WSGI application.

It answers the paths of open.weixin.qq.com and api.weixin.qq.com as WeChat documents them:

- ``GET /connect/oauth2/authorize`` (what WeChat's browser opens): checks appid, scope and the
  redirect domain, then redirects to ``redirect_uri?code=…&state=…`` for the WeChat user signed
  in on the phone (the ``wechat_user`` cookie here), or shows WeChat's error page;
- ``GET /sns/oauth2/access_token``: a code works once (40163 after), for 5 minutes (40029 after,
  as for any unknown code); wrong appid 40013, wrong secret 40125;
- ``GET /sns/userinfo``: only for a token of scope ``snsapi_userinfo`` (48001 otherwise);
- ``GET /cgi-bin/token`` and ``GET /cgi-bin/ticket/getticket?type=jsapi``: 7200-second
  credentials; an unknown token is 40001, an expired one 42001.

Errors are HTTP 200 with ``{"errcode": …, "errmsg": …}``, as WeChat answers. Times come from
``time.time()`` so tests move them with time-machine. ``calls`` records each API path called.
"""

import hashlib
import json
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

CODE_TTL_SECONDS = 5 * 60
TOKEN_TTL_SECONDS = 7200
SCOPES = {"snsapi_base", "snsapi_userinfo"}

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

    def reset(self) -> None:
        self.apps.clear()
        self.nicknames.clear()
        self.codes.clear()
        self.sns_tokens.clear()
        self.tokens.clear()
        self.calls.clear()

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

    def revoke_tokens(self) -> None:
        """What resetting the AppSecret or another server fetching tokens does: ours stop working."""
        self.tokens.clear()


def _error(errcode: int, errmsg: str) -> dict[str, Any]:
    return {"errcode": errcode, "errmsg": f"{errmsg} rid: {secrets.token_hex(4)}-{secrets.token_hex(4)}"}


FAKE = FakeWechat()
