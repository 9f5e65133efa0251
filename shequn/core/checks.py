"""Production system checks shared by the apps, and the start-up gate that runs them.

Every app's production checks are registered under ``PRODUCTION_TAG``. ``manage.py check``
(and so ``runserver`` and ``migrate``) runs them; a WSGI server does not run system checks, so
``shequn.wsgi`` calls ``refuse_to_start_on_errors()`` in production: the web process does not
come up while one of them reports an error.

The deploy checks here (``check --deploy``) flag storage that lives in one process's memory:
with several web workers each one would keep its own copy, and a restart would forget it.
"""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register, run_checks
from django.core.checks.messages import ERROR
from django.core.exceptions import ImproperlyConfigured

PRODUCTION_TAG = "shequn_production"

LOCAL_MEMORY_CACHE = "shequn.core.W001"
LOCAL_MEMORY_RATE_LIMITS = "shequn.core.W002"

LOCMEM_BACKEND = "django.core.cache.backends.locmem.LocMemCache"
NO_SECRETS_KEY = "shequn.core.E001"


@register(PRODUCTION_TAG)
def check_secrets_key(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Merchants' payment keys are stored encrypted under SHEQUN_SECRETS_KEY (shequn.core.secrets)."""
    if settings.SHEQUN_PRODUCTION and not settings.SHEQUN_SECRETS_KEYS:
        return [
            Error(
                "SHEQUN_SECRETS_KEY is not set: merchants' payment keys cannot be stored or read.",
                hint="Set SHEQUN_SECRETS_KEY to a long random string kept apart from SECRET_KEY.",
                id=NO_SECRETS_KEY,
            )
        ]
    return []


@register(PRODUCTION_TAG, deploy=True)
def check_shared_cache(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    found: list[CheckMessage] = []
    local = [alias for alias, config in settings.CACHES.items() if config.get("BACKEND") == LOCMEM_BACKEND]
    if local:
        found.append(
            Warning(
                f"The cache {', '.join(local)} is local memory: each web worker keeps its own copy, "
                "and a restart empties it.",
                hint="Set REDIS_URL so every worker shares one cache.",
                id=LOCAL_MEMORY_CACHE,
            )
        )
    if settings.RATELIMIT_STORE == "cache" and settings.CACHES["default"].get("BACKEND") == LOCMEM_BACKEND:
        found.append(
            Warning(
                "Rate-limit counters live in a local-memory cache: they multiply with the web workers "
                "and reset on every restart.",
                hint="Set REDIS_URL, or leave RATELIMIT_STORE to its default (the database without Redis).",
                id=LOCAL_MEMORY_RATE_LIMITS,
            )
        )
    return found


def refuse_to_start_on_errors() -> None:
    """Raise ImproperlyConfigured when a production check reports an error (silenced ones excepted)."""
    errors = [
        message for message in run_checks(tags=[PRODUCTION_TAG]) if message.level >= ERROR and not message.is_silenced()
    ]
    if errors:
        raise ImproperlyConfigured("shequn refuses to start:\n" + "\n".join(str(error) for error in errors))
