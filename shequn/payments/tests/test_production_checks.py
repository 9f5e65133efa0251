"""Production refuses the sandbox cashier, codes texted to the log and per-process storage."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import ERROR, WARNING, run_checks
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse

from shequn.core.checks import refuse_to_start_on_errors
from shequn.testing.payments import make_order

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]
LOCMEM = "django.core.cache.backends.locmem.LocMemCache"
REDIS = "django.core.cache.backends.redis.RedisCache"


def shequn_messages(*, deploy: bool = False) -> dict[str, int]:
    found = run_checks(include_deployment_checks=deploy)
    return {m.id: m.level for m in found if m.id is not None and m.id.startswith("shequn.")}


@pytest.fixture
def production(settings):
    """What a real deployment sets (scripts/test production_check): COD, Redis, an SMS relay."""
    settings.SHEQUN_PRODUCTION = True
    settings.PAYMENT_GATEWAYS = ["cod"]
    settings.REDIS_URL = "redis://redis.internal:6379/0"  # the cache's, and the admission gate's
    settings.CACHES = {"default": {"BACKEND": REDIS, "LOCATION": settings.REDIS_URL}}
    settings.RATELIMIT_STORE = "cache"
    settings.SMS_BACKEND = "shequn.accounts.sms.HttpSmsBackend"
    settings.SMS_HTTP_URL = "https://sms-relay.internal/send"
    settings.SHEQUN_SECRETS_KEYS = [secrets.token_urlsafe(64)]
    return settings


def test_a_real_production_configuration_passes(production):
    assert shequn_messages(deploy=True) == {}
    refuse_to_start_on_errors()  # does not raise


def test_the_sandbox_in_production_is_an_error_that_stops_start_up(production):
    production.PAYMENT_GATEWAYS = ["sandbox", "cod"]
    assert shequn_messages() == {"shequn.payments.E001": ERROR}
    with pytest.raises(ImproperlyConfigured, match=r"shequn\.payments\.E001"):
        refuse_to_start_on_errors()


def test_a_demo_may_run_the_sandbox_in_production_with_a_warning(production):
    production.PAYMENT_GATEWAYS = ["sandbox", "cod"]
    production.SHEQUN_ALLOW_SANDBOX_IN_PRODUCTION = True
    assert shequn_messages() == {"shequn.payments.W001": WARNING}
    refuse_to_start_on_errors()  # a warning does not stop the server


def test_the_sandbox_in_development_is_fine(settings):
    settings.SHEQUN_PRODUCTION = False
    assert settings.PAYMENT_GATEWAYS == ["sandbox", "wechat", "cod"]
    assert "shequn.payments.E001" not in shequn_messages()


def test_production_without_a_secrets_key_is_an_error(production):
    # Merchants' payment keys are encrypted under it; SECRET_KEY is not used in its place.
    production.SHEQUN_SECRETS_KEYS = []
    assert shequn_messages() == {"shequn.core.E001": ERROR}


def test_unknown_or_no_gateways_are_errors(production):
    production.PAYMENT_GATEWAYS = ["cod", "alipay"]
    assert shequn_messages() == {"shequn.payments.E002": ERROR}
    production.PAYMENT_GATEWAYS = []
    assert shequn_messages() == {"shequn.payments.E003": ERROR}


def test_with_the_sandbox_disabled_its_cashier_and_api_are_404(production):
    production.PAYMENT_GATEWAYS = ["sandbox", "cod"]
    # Checkout and requests use the cache (card levels, tokens); redis.internal is not reachable here.
    production.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    order = make_order()
    client = Client()
    client.force_login(order.user)
    production.SECURE_SSL_REDIRECT = False  # the test client speaks plain HTTP
    cashier = client.post(reverse("payments:pay", args=[order.number]))["Location"]
    assert client.get(cashier).status_code == 200
    production.PAYMENT_GATEWAYS = ["cod"]
    assert client.get(cashier).status_code == 404
    assert client.post(cashier, {"action": "confirm"}).status_code == 404
    assert Client().post("/sandbox-pay/v3/pay/transactions/jsapi").status_code == 404


def test_codes_written_to_the_log_are_flagged(production):
    for backend in ("shequn.accounts.sms.ConsoleSmsBackend", "shequn.accounts.sms.OutboxSmsBackend"):
        production.SMS_BACKEND = backend
        assert shequn_messages(deploy=True) == {"shequn.accounts.W001": WARNING}


def test_an_sms_backend_that_cannot_work_is_an_error(production):
    production.SMS_HTTP_URL = ""
    assert shequn_messages() == {"shequn.accounts.E002": ERROR}
    production.SMS_BACKEND = "deployment.sms.NoSuchBackend"
    assert shequn_messages() == {"shequn.accounts.E001": ERROR}


def test_a_local_memory_cache_and_rate_limiter_are_flagged(production):
    production.CACHES = {"default": {"BACKEND": LOCMEM, "LOCATION": "shequn"}}
    assert shequn_messages(deploy=True) == {"shequn.core.W001": WARNING, "shequn.core.W002": WARNING}
    # Without Redis the rate limiter counts in the database, shared by every worker: only the cache is flagged.
    production.RATELIMIT_STORE = "database"
    assert shequn_messages(deploy=True) == {"shequn.core.W001": WARNING}


def test_manage_py_check_and_the_wsgi_app_refuse_the_sandbox_in_production(tmp_path):
    environment = {key: value for key, value in os.environ.items() if not key.startswith("SHEQUN_")}
    environment.update(
        SHEQUN_PRODUCTION="1",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(64),
        SHEQUN_SECRETS_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="shop.example.com",
        SHEQUN_VAR_DIR=str(tmp_path),
    )
    check = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )
    assert check.returncode != 0
    assert "shequn.payments.E001" in check.stderr
    wsgi = subprocess.run(
        [sys.executable, "-c", "import shequn.wsgi"], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    assert wsgi.returncode != 0
    assert "shequn refuses to start" in wsgi.stderr
    environment["SHEQUN_ALLOW_SANDBOX_IN_PRODUCTION"] = "1"
    wsgi = subprocess.run(
        [sys.executable, "-c", "import shequn.wsgi"], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    assert wsgi.returncode == 0, wsgi.stderr
