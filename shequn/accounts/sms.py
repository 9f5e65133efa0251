"""SMS delivery for sign-in codes, behind a pluggable backend (``settings.SMS_BACKEND``).

A real provider (Aliyun, Tencent Cloud) plugs in as another class with ``send_code``.
Logs never carry a full phone number (PIPL); the console backend logs the code itself
because it *is* the development stand-in for the text message.
"""

import logging
from dataclasses import dataclass
from typing import ClassVar, Protocol

import httpx
from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from shequn.core.phone import mask_phone

logger = logging.getLogger("shequn.sms")


class SmsBackend(Protocol):
    def send_code(self, phone: str, code: str, *, ttl_minutes: int) -> None: ...


def code_message(code: str, ttl_minutes: int) -> str:
    return _("【社群】您的验证码是 %(code)s，%(ttl_minutes)s 分钟内有效。如非本人操作，请忽略本短信。") % {
        "code": code,
        "ttl_minutes": ttl_minutes,
    }


class ConsoleSmsBackend:
    """Development default: writes the message to the log, with the phone masked."""

    def send_code(self, phone: str, code: str, *, ttl_minutes: int) -> None:
        logger.info("SMS to %s: %s", mask_phone(phone), code_message(code, ttl_minutes))


class HttpSmsBackend:
    """Production: POSTs ``{"phone": ..., "message": ...}`` as JSON to ``SMS_HTTP_URL``.

    The URL is an SMS relay of the deployment (or a provider with such an API); ``SMS_HTTP_TOKEN``,
    when set, goes in ``Authorization: Bearer``. A non-2xx answer is a failure (the code is burnt).
    """

    def send_code(self, phone: str, code: str, *, ttl_minutes: int) -> None:
        headers = {"Authorization": f"Bearer {settings.SMS_HTTP_TOKEN}"} if settings.SMS_HTTP_TOKEN else {}
        response = httpx.post(
            settings.SMS_HTTP_URL,
            json={"phone": phone, "message": code_message(code, ttl_minutes)},
            headers=headers,
            timeout=10.0,
        )
        response.raise_for_status()


@dataclass(frozen=True)
class SentSms:
    phone: str
    code: str
    message: str


class OutboxSmsBackend:
    """Tests: keeps messages in memory (``OutboxSmsBackend.outbox``) so a test can read the code."""

    outbox: ClassVar[list[SentSms]] = []

    def send_code(self, phone: str, code: str, *, ttl_minutes: int) -> None:
        self.outbox.append(SentSms(phone=phone, code=code, message=code_message(code, ttl_minutes)))

    @classmethod
    def last_code(cls, phone: str) -> str:
        for sms in reversed(cls.outbox):
            if sms.phone == phone:
                return sms.code
        raise LookupError(f"no code sent to {mask_phone(phone)}")


def get_sms_backend() -> SmsBackend:
    backend: SmsBackend = import_string(settings.SMS_BACKEND)()
    return backend
