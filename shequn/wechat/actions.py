"""Every write of WeChat sign-in: the OAuth ``state``, the code exchange, binding and unbinding.

``state`` is single-use, short-lived and signed: 24 hex of nonce, 8 hex of issue time, 40 hex of
HMAC (WeChat allows up to 128 characters of ``[a-zA-Z0-9]``). The nonce is also kept in the
session that asked, and taken out when the callback uses it, so a state works once, and only in the
browser that started the dance (no signing someone into an attacker's WeChat, no replay).
"""

import hmac
import logging
import secrets
import time
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from shequn.core.errors import Conflict, DomainError, InvalidInput

from . import client
from .client import WechatIdentity, mask_openid
from .models import WechatBinding

logger = logging.getLogger("shequn.wechat")

STATE_SESSION_KEY = "wechat_oauth_states"
PENDING_SESSION_KEY = "wechat_pending_identity"
STATES_KEPT = 5  # a few tabs may start at once; older states are dropped
# A WeChat identity waits this long in the session for the phone sign-in that binds it.
PENDING_TTL_SECONDS = 15 * 60
# Codes WeChat gives for a code that is unknown, expired or already used.
SPENT_CODE_ERRCODES = {40029, 40163}


class WechatUnavailable(DomainError):
    status = 502
    code = "wechat_unavailable"


# --- state ------------------------------------------------------------------------------------


def _mac(nonce: str, issued: str) -> str:
    return salted_hmac("shequn.wechat.oauth-state", f"{nonce}{issued}", algorithm="sha256").hexdigest()[:40]


def issue_state(session: SessionBase, next_url: str) -> str:
    nonce = secrets.token_hex(12)
    issued = f"{int(time.time()):08x}"
    states: dict[str, str] = dict(session.get(STATE_SESSION_KEY, {}))
    states[nonce] = next_url
    session[STATE_SESSION_KEY] = dict(list(states.items())[-STATES_KEPT:])
    return f"{nonce}{issued}{_mac(nonce, issued)}"


def consume_state(session: SessionBase, state: str) -> str:
    """Check and spend a state; return the page the member was going to."""
    nonce, issued, mac = state[:24], state[24:32], state[32:]
    if len(state) != 72 or not hmac.compare_digest(mac, _mac(nonce, issued)):
        raise InvalidInput(_("登录请求无效，请重新进入"), code="wechat_state_invalid")
    states: dict[str, str] = dict(session.get(STATE_SESSION_KEY, {}))
    next_url = states.pop(nonce, None)
    session[STATE_SESSION_KEY] = states
    if next_url is None:
        raise InvalidInput(_("登录请求已使用过，请重新进入"), code="wechat_state_used")
    if time.time() - int(issued, 16) > int(settings.WECHAT_OAUTH_STATE_MAX_AGE_SECONDS):
        raise InvalidInput(_("登录请求已过期，请重新进入"), code="wechat_state_expired")
    return next_url


# --- the code exchange -----------------------------------------------------------------------


def do_exchange_code(code: str) -> WechatIdentity:
    if not code:
        raise InvalidInput(_("微信未授权登录"), code="wechat_not_authorised")
    try:
        identity = client.exchange_code(code)
    except client.WechatError as error:
        if error.errcode in SPENT_CODE_ERRCODES:
            raise InvalidInput(_("微信授权已失效，请重新进入"), code="wechat_code_invalid") from None
        raise WechatUnavailable(_("微信登录暂不可用，请用手机号登录")) from None
    logger.info("WeChat identity %s obtained (scope %s)", mask_openid(identity.openid), identity.scope)
    return identity


def do_sign_in(identity: WechatIdentity) -> Any:
    """The member bound to this WeChat identity (None: unknown, bind by phone first)."""
    binding = (
        WechatBinding.objects.select_related("user")
        .filter(app_id=identity.app_id, openid=identity.openid, user__is_active=True)
        .first()
    )
    if binding is None:
        return None
    updates: dict[str, Any] = {"last_sign_in_at": timezone.now()}
    if identity.unionid:
        updates["unionid"] = identity.unionid
    if identity.nickname:
        updates["nickname"] = identity.nickname
    WechatBinding.objects.filter(pk=binding.pk).update(**updates)
    logger.info("WeChat sign-in of user #%s by %s", binding.user_id, mask_openid(identity.openid))
    return binding.user


# --- binding ----------------------------------------------------------------------------------


def hold_pending(session: SessionBase, identity: WechatIdentity) -> None:
    """Keep an unknown WeChat identity until the member proves their phone (then it is bound)."""
    session[PENDING_SESSION_KEY] = {
        "app_id": identity.app_id,
        "openid": identity.openid,
        "unionid": identity.unionid,
        "scope": identity.scope,
        "nickname": identity.nickname,
        "at": int(time.time()),
    }


def pending_identity(session: SessionBase) -> WechatIdentity | None:
    held = session.get(PENDING_SESSION_KEY)
    if not held or time.time() - int(held["at"]) > PENDING_TTL_SECONDS:
        return None
    return WechatIdentity(**{key: value for key, value in held.items() if key != "at"})


def take_pending(session: SessionBase) -> WechatIdentity | None:
    identity = pending_identity(session)
    session.pop(PENDING_SESSION_KEY, None)
    return identity


def do_bind(user: Any, identity: WechatIdentity) -> WechatBinding:
    """Bind the identity to the member; the database refuses a second account or a second openid."""
    try:
        with transaction.atomic():
            binding = WechatBinding.objects.create(
                user=user,
                app_id=identity.app_id,
                openid=identity.openid,
                unionid=identity.unionid,
                nickname=identity.nickname,
                last_sign_in_at=timezone.now(),
            )
    except IntegrityError:
        existing = WechatBinding.objects.filter(app_id=identity.app_id, openid=identity.openid).first()
        if existing is not None and existing.user_id == user.pk:
            return existing
        if existing is not None:
            raise Conflict(_("该微信已绑定其他账号"), code="wechat_bound_elsewhere") from None
        raise Conflict(_("账号已绑定其他微信，请先解绑"), code="wechat_account_already_bound") from None
    logger.info("WeChat %s bound to user #%s", mask_openid(identity.openid), user.pk)
    return binding


def do_unbind(user: Any) -> int:
    deleted, _rows = WechatBinding.objects.filter(user=user).delete()
    if deleted:
        logger.info("WeChat unbound from user #%s", user.pk)
    return deleted
