"""Every write of the accounts app: ``check_*`` validates and authorises, ``do_*`` changes data."""

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.core import ratelimit
from shequn.core.errors import DomainError, InvalidInput, NotAuthenticated, RateLimited
from shequn.core.phone import mask_phone, normalise_phone
from shequn.shops.models import StaffMember

from .auth import forget_tokens, forget_user_tokens, hash_token
from .models import Address, ApiToken, OtpCode, User
from .regions import resolve_chain
from .selectors import access_address, access_token
from .sms import get_sms_backend

logger = logging.getLogger("shequn.accounts")

NICKNAME_MAX_LENGTH = 20


class SmsFailed(DomainError):
    status = 502
    code = "sms_failed"


def _limit(name: str) -> tuple[int, int]:
    # Verification attempts per phone/IP are limited on top of the per-code limit
    # (settings.OTP_MAX_ATTEMPTS): a fresh code every minute must not give unlimited guesses.
    value = getattr(settings, name)
    return int(value[0]), int(value[1])


# --- one-time codes -----------------------------------------------------------------


def hash_code(phone: str, code: str) -> str:
    """Keyed hash so a leaked table does not reveal codes (a 6-digit space is trivial to brute-force unkeyed)."""
    return hmac.new(settings.SECRET_KEY.encode(), f"otp:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class OtpSent:
    phone: str
    expires_in: int
    resend_after: int


def _phone_key(phone: str) -> str:
    """The phone inside rate-limit keys: a keyed hash, since counter rows outlive their window (PIPL)."""
    return hmac.new(settings.SECRET_KEY.encode(), f"ratelimit:{phone}".encode(), hashlib.sha256).hexdigest()[:24]


def check_can_send_otp(phone: str, ip: str | None) -> None:
    """Resend interval first (it costs no quota), then the per-IP and per-phone windows."""
    interval = int(settings.OTP_RESEND_INTERVAL_SECONDS)
    last = OtpCode.objects.filter(phone=phone).order_by("-created_at", "-id").first()
    if last is not None:
        wait = interval - int((timezone.now() - last.created_at).total_seconds())
        if wait > 0:
            raise RateLimited(
                _("验证码已发送，请 %(wait)s 秒后再试") % {"wait": wait},
                code="otp_resend_too_soon",
                details={"retry_after": wait},
            )
    if ip:
        limit, window = _limit("OTP_SEND_LIMIT_PER_IP")
        ratelimit.hit(f"otp-send-ip:{ip}", limit, window)
    # Per phone *and* IP: someone elsewhere cannot use up a member's quota (the resend interval
    # above still caps how often any phone is texted).
    limit, window = _limit("OTP_SEND_LIMIT_PER_PHONE_AND_IP")
    ratelimit.hit(f"otp-send-phone:{_phone_key(phone)}:{ip or '-'}", limit, window)


def do_send_otp(raw_phone: str, *, ip: str | None) -> OtpSent:
    """Create a fresh code for the phone (older unused codes stop working) and text it."""
    phone = normalise_phone(raw_phone)
    check_can_send_otp(phone, ip)
    code = f"{secrets.randbelow(10**6):06d}"
    now = timezone.now()
    ttl = int(settings.OTP_TTL_SECONDS)
    with transaction.atomic():
        OtpCode.objects.filter(phone=phone, used_at__isnull=True, expires_at__gt=now).update(expires_at=now)
        otp = OtpCode.objects.create(
            phone=phone, code_hash=hash_code(phone, code), expires_at=now + timedelta(seconds=ttl), ip=ip
        )
    try:
        get_sms_backend().send_code(phone, code, ttl_minutes=max(1, ttl // 60))
    except Exception as error:
        OtpCode.objects.filter(pk=otp.pk).update(expires_at=now)
        logger.exception("SMS to %s failed", mask_phone(phone))
        raise SmsFailed(_("短信发送失败，请稍后再试")) from error
    return OtpSent(phone=phone, expires_in=ttl, resend_after=int(settings.OTP_RESEND_INTERVAL_SECONDS))


def member_username(phone: str) -> str:
    """Stable, non-reversible username for a phone ("m" + keyed hash): the phone never shows in URLs or logs."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"member:{phone}".encode(), hashlib.sha256).hexdigest()
    return f"m{digest[:15]}"


def _member_for_phone(phone: str) -> User:
    user = User.objects.filter(phone=phone).first()
    if user is not None:
        return user
    username = member_username(phone)
    if User.objects.filter(username=username).exists():  # practically never: fall back to a random suffix
        username = f"m{secrets.token_hex(8)}"
    return User.objects.create_user(username=username, phone=phone, nickname=f"用户{phone[-4:]}")


def check_can_verify_otp(phone: str, ip: str | None) -> None:
    # Guessing is capped per code (OTP_MAX_ATTEMPTS, then it is burnt) and codes per minute by the
    # resend interval; these windows bound one address, never the phone from everywhere.
    limit, window = _limit("OTP_VERIFY_LIMIT_PER_PHONE_AND_IP")
    ratelimit.hit(f"otp-verify-phone:{_phone_key(phone)}:{ip or '-'}", limit, window)
    if ip:
        limit, window = _limit("OTP_VERIFY_LIMIT_PER_IP")
        ratelimit.hit(f"otp-verify-ip:{ip}", limit, window)


def do_verify_otp(raw_phone: str, code: str, *, ip: str | None) -> User:
    """Consume the phone's current code and return its member, created on first sign-in.

    A wrong guess counts against the code; at ``OTP_MAX_ATTEMPTS`` wrong guesses the code
    is burnt. A code works once, within its TTL, and only the newest code of a phone works.
    """
    phone = normalise_phone(raw_phone)
    code = (code or "").strip()
    check_can_verify_otp(phone, ip)
    if not (len(code) == 6 and code.isdigit()):
        raise InvalidInput(_("请输入 6 位数字验证码"), code="otp_malformed")
    max_attempts = int(settings.OTP_MAX_ATTEMPTS)
    now = timezone.now()
    failure: DomainError | None = None
    user: User | None = None
    with transaction.atomic():
        otp = (
            OtpCode.objects.select_for_update()
            .filter(phone=phone, used_at__isnull=True, expires_at__gt=now, failed_attempts__lt=max_attempts)
            .order_by("-created_at", "-id")
            .first()
        )
        if otp is None:
            failure = InvalidInput(_("验证码无效或已过期，请重新获取"), code="otp_invalid")
        elif not hmac.compare_digest(otp.code_hash, hash_code(phone, code)):
            OtpCode.objects.filter(pk=otp.pk).update(failed_attempts=F("failed_attempts") + 1)
            left = max_attempts - otp.failed_attempts - 1
            if left <= 0:
                failure = InvalidInput(_("验证码错误次数过多，请重新获取"), code="otp_burnt")
            else:
                failure = InvalidInput(
                    _("验证码错误，还可尝试 %(left)s 次") % {"left": left}, code="otp_wrong", details={"left": left}
                )
        # The conditional update is the single-use guarantee, even for two requests at once.
        elif OtpCode.objects.filter(pk=otp.pk, used_at__isnull=True).update(used_at=now) != 1:
            failure = InvalidInput(_("验证码无效或已过期，请重新获取"), code="otp_invalid")
        else:
            user = _member_for_phone(phone)
    # Raised outside the transaction so the failed-attempt count is kept.
    if failure is not None:
        raise failure
    assert user is not None
    if not user.is_active:
        raise InvalidInput(_("该账号已停用"), code="account_disabled")
    return user


# --- staff password sign-in and API tokens -----------------------------------------------


def _login_pair(username: str, ip: str | None) -> str:
    return f"login:{username.lower()}:{ip or '-'}"


def check_login_not_locked(username: str, ip: str | None) -> None:
    wait = ratelimit.locked_for(f"{_login_pair(username, ip)}:lock")
    if wait:
        minutes = max(1, -(-wait // 60))
        raise RateLimited(
            _("密码错误次数过多，请 %(minutes)s 分钟后再试") % {"minutes": minutes},
            code="login_locked",
            details={"retry_after": wait},
        )


def _count_login_failure(username: str, ip: str | None) -> None:
    """Lock the (username, IP) pair after repeated failures, for longer with each further one."""
    pair = _login_pair(username, ip)
    failures = ratelimit.count(f"{pair}:failures", int(settings.LOGIN_FAILURE_MEMORY_SECONDS))
    threshold = int(settings.LOGIN_FAILURES_BEFORE_LOCKOUT)
    if failures >= threshold:
        seconds = int(settings.LOGIN_LOCKOUT_BASE_SECONDS) * 2 ** min(failures - threshold, 30)
        ratelimit.lock(f"{pair}:lock", min(seconds, int(settings.LOGIN_LOCKOUT_MAX_SECONDS)))


def check_staff_credentials(username: str, password: str, *, ip: str | None) -> User:
    """Rate-limited password check for shop staff (and platform admins).

    Limits are per IP (any usernames) and, with a growing lockout, per (username, IP): failures
    from one address never lock the account for the staff member signing in from another.
    """
    username = (username or "").strip()
    if ip:
        limit, window = _limit("LOGIN_LIMIT_PER_IP")
        ratelimit.hit(f"login-ip:{ip}", limit, window)
    if not username or not password:
        raise InvalidInput(_("请输入用户名和密码"), code="credentials_missing")
    check_login_not_locked(username, ip)
    user = authenticate(username=username, password=password)
    if not isinstance(user, User):
        _count_login_failure(username, ip)
        raise NotAuthenticated(_("用户名或密码错误"), code="bad_credentials")
    pair = _login_pair(username, ip)
    ratelimit.reset(f"{pair}:failures")
    ratelimit.reset(f"{pair}:lock")
    if not (user.is_superuser or user.is_staff or StaffMember.objects.filter(user=user, is_active=True).exists()):
        raise NotAuthenticated(_("该账号不是店铺员工"), code="not_staff")
    return user


@dataclass(frozen=True)
class IssuedToken:
    token: str  # shown once; only its hash is stored
    row: ApiToken


def do_issue_token(user: User, *, name: str = "") -> IssuedToken:
    token = secrets.token_urlsafe(32)
    row = ApiToken.objects.create(user=user, token_hash=hash_token(token), name=(name or "")[:64])
    return IssuedToken(token=token, row=row)


def do_revoke_token(user: User, token_id: int) -> ApiToken:
    row = access_token(user, token_id)
    if row.revoked_at is None:
        ApiToken.objects.filter(pk=row.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        forget_tokens([row.token_hash])
        row.refresh_from_db()
    return row


def do_revoke_token_value(token: str) -> None:
    ApiToken.objects.filter(token_hash=hash_token(token), revoked_at__isnull=True).update(revoked_at=timezone.now())
    forget_tokens([hash_token(token)])


# --- profile -------------------------------------------------------------------------------


def check_nickname(nickname: str) -> str:
    nickname = " ".join((nickname or "").split())
    if not nickname:
        raise InvalidInput(
            _("昵称不能为空"), code="nickname_required", details={"fields": {"nickname": _("昵称不能为空")}}
        )
    if len(nickname) > NICKNAME_MAX_LENGTH:
        message = _("昵称最多 %(nickname_max_length)s 个字") % {"nickname_max_length": NICKNAME_MAX_LENGTH}
        raise InvalidInput(message, code="nickname_too_long", details={"fields": {"nickname": message}})
    return nickname


def do_update_profile(user: User, *, nickname: str) -> User:
    user.nickname = check_nickname(nickname)
    user.save(update_fields=["nickname"])
    return user


def do_set_language(user: User, language: str) -> None:
    """Store the language the person chose with the switch (unknown codes are ignored)."""
    if language in dict(settings.LANGUAGES):
        User.objects.filter(pk=user.pk).update(language=language)
        forget_user_tokens(user.pk)  # an API request's cached caller would keep the old language


# --- addresses -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddressInput:
    recipient: str
    phone: str
    province_code: str
    city_code: str
    district_code: str
    detail: str
    is_default: bool = False


def check_address(data: AddressInput) -> dict[str, Any]:
    """Validate an address; names of regions come from the region data, never from the client."""
    errors: dict[str, str] = {}
    recipient = " ".join((data.recipient or "").split())
    if not recipient:
        errors["recipient"] = _("请填写收货人")
    elif len(recipient) > 32:
        errors["recipient"] = _("收货人姓名最多 32 个字")
    phone = ""
    try:
        phone = normalise_phone(data.phone)
    except InvalidInput as error:
        errors["phone"] = error.message
    detail = " ".join((data.detail or "").split())
    if len(detail) < 4:
        errors["detail"] = _("请填写详细地址（街道、门牌号等），至少 4 个字")
    elif len(detail) > 200:
        errors["detail"] = _("详细地址最多 200 个字")
    values: dict[str, Any] = {}
    try:
        chain = resolve_chain(
            (data.province_code or "").strip(), (data.city_code or "").strip(), (data.district_code or "").strip()
        )
    except InvalidInput as error:
        errors.update(error.details.get("fields", {}))
    else:
        values = {
            "province_code": chain.province.code,
            "province": chain.province.name,
            "city_code": chain.city.code,
            "city": chain.city.name,
            "district_code": chain.district.code if chain.district else "",
            "district": chain.district.name if chain.district else "",
        }
    if errors:
        first = next(iter(errors.values()))
        raise InvalidInput(first, code="invalid_address", details={"fields": errors})
    return {"recipient": recipient, "phone": phone, "detail": detail, **values}


def _lock_addresses(user: User) -> None:
    """Serialise a member's address writes on their user row.

    Locking the address rows alone is not enough: a member with no address yet has none
    to lock, and two first addresses would both become the default.
    """
    User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True).first()


def do_create_address(user: User, data: AddressInput) -> Address:
    values = check_address(data)
    with transaction.atomic():
        _lock_addresses(user)
        make_default = data.is_default or not Address.objects.filter(user=user).exists()
        if make_default:
            Address.objects.filter(user=user, is_default=True).update(is_default=False)
        return Address.objects.create(user=user, is_default=make_default, **values)


def do_update_address(user: User, address_id: int, data: AddressInput) -> Address:
    values = check_address(data)
    with transaction.atomic():
        _lock_addresses(user)
        address = access_address(user, address_id)
        for name, value in values.items():
            setattr(address, name, value)
        if data.is_default and not address.is_default:
            Address.objects.filter(user=user, is_default=True).update(is_default=False)
            address.is_default = True
        # Unticking "default" on the default address changes nothing: there must be exactly one.
        address.save()
        return address


def do_set_default_address(user: User, address_id: int) -> Address:
    with transaction.atomic():
        _lock_addresses(user)
        address = access_address(user, address_id)
        if not address.is_default:
            Address.objects.filter(user=user, is_default=True).update(is_default=False)
            Address.objects.filter(pk=address.pk).update(is_default=True)
            address.is_default = True
        return address


def do_delete_address(user: User, address_id: int) -> None:
    """Delete one of the member's addresses; if it was the default, the newest remaining one takes over.

    Orders keep their own copy of the delivery address, so deleting never touches history.
    """
    with transaction.atomic():
        _lock_addresses(user)
        address = access_address(user, address_id)
        was_default = address.is_default
        address.delete()
        if was_default:
            successor = Address.objects.filter(user=user).order_by("-created_at", "-id").first()
            if successor is not None:
                Address.objects.filter(pk=successor.pk).update(is_default=True)


# --- housekeeping -----------------------------------------------------------------------------

OTP_RETENTION = timedelta(days=1)


def do_purge_old_otp_codes(*, now: datetime | None = None) -> int:
    """Delete sign-in codes a day after they expired: they hold phone numbers and serve no purpose (PIPL)."""
    cutoff = (now or timezone.now()) - OTP_RETENTION
    deleted, _ = OtpCode.objects.filter(expires_at__lt=cutoff).delete()
    return deleted
