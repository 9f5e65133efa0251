"""System checks of member sign-in: SMS codes must reach phones, not the log, in production."""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register
from django.utils.module_loading import import_string

from shequn.core.checks import PRODUCTION_TAG

SMS_BACKEND_NOT_IMPORTABLE = "shequn.accounts.E001"
SMS_HTTP_URL_MISSING = "shequn.accounts.E002"
SMS_TO_LOG = "shequn.accounts.W001"

# Backends that never text anyone: the log (development) and the in-memory outbox (tests).
NON_DELIVERING_BACKENDS = {"shequn.accounts.sms.ConsoleSmsBackend", "shequn.accounts.sms.OutboxSmsBackend"}


@register(PRODUCTION_TAG)
def check_sms_backend(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    try:
        import_string(settings.SMS_BACKEND)
    except ImportError as error:
        message = f"SMS_BACKEND {settings.SMS_BACKEND!r} cannot be imported: {error}"
        return [Error(message, id=SMS_BACKEND_NOT_IMPORTABLE)]
    if settings.SMS_BACKEND == "shequn.accounts.sms.HttpSmsBackend" and not settings.SMS_HTTP_URL:
        return [
            Error(
                "SMS_BACKEND is the HTTP backend but SMS_HTTP_URL is empty: no sign-in code can be sent.",
                id=SMS_HTTP_URL_MISSING,
            )
        ]
    return []


@register(PRODUCTION_TAG, deploy=True)
def check_sms_is_delivered(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.SMS_BACKEND in NON_DELIVERING_BACKENDS:
        return [
            Warning(
                "Sign-in codes are written to the log instead of being texted: members cannot sign in, "
                "and whoever reads the log can sign in as any member.",
                hint="Set SMS_BACKEND to a delivering backend, e.g. shequn.accounts.sms.HttpSmsBackend "
                "with SMS_HTTP_URL.",
                id=SMS_TO_LOG,
            )
        ]
    return []
