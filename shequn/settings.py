"""Settings for shequn, read from the environment.

The embedded default (no variables set) is SQLite in WAL mode, SqliteHuey and a
local-memory cache: one process, no external service. Set DATABASE_URL and REDIS_URL
to scale out.
"""

import os
from pathlib import Path
from typing import Any

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SHEQUN_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Production: secure cookies, HSTS and SSL redirect (end of this file), and the production
# system checks (shequn.*.checks) refuse what must not run live: the sandbox cashier, SMS
# codes written to the log, rate-limit counters or locks held in one process's memory.
SHEQUN_PRODUCTION = env_bool("SHEQUN_PRODUCTION", False)


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and SHEQUN_PRODUCTION:
        raise RuntimeError("SECRET_KEY must be set in production")
    SECRET_KEY = "shequn-development-only-secret-key-change-me-0123456789abcdef"  # noqa: S105
# Encrypts secrets at rest (merchants' payment keys), apart from SECRET_KEY: comma-separated,
# newest first; older keys still decrypt until the stored secrets are re-encrypted (shequn.core.secrets).
SHEQUN_SECRETS_KEYS = env_list("SHEQUN_SECRETS_KEY", "")
if not SHEQUN_SECRETS_KEYS and not SHEQUN_PRODUCTION:
    SHEQUN_SECRETS_KEYS = ["shequn-development-only-secrets-key-change-me"]
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
# Absolute base URL of this deployment: used for invite links, QR codes and payment callbacks.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "huey.contrib.djhuey",
    "shequn.core",
    "shequn.gate",
    "shequn.wechat",
    "shequn.shops",
    "shequn.accounts",
    "shequn.wallets",
    "shequn.catalog",
    "shequn.communities",
    "shequn.board",
    "shequn.content",
    "shequn.courses",
    "shequn.events",
    "shequn.coupons",
    "shequn.loyalty",
    "shequn.leaders",
    "shequn.orders",
    "shequn.storedvalue",
    "shequn.payments",
    "shequn.gifts",
    "shequn.packages",
    "shequn.groupbuy",
    "shequn.fulfilment",
    "shequn.teambuy",
    "shequn.flashsales",
    "shequn.lotteries",
    "shequn.redpackets",
    "shequn.distribution",
    "shequn.notifications",
    "shequn.analytics",
    # Members' data rights (export, deletion): reads every app's rows about a member.
    "shequn.privacy",
    "shequn.merchants",
    # Demo data and benchmark endpoints; may import every app, so it comes last.
    "shequn.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves collected static files in the embedded mode (granian, no DEBUG, no front proxy).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Django's LocaleMiddleware, except that pages ignore Accept-Language (Chinese-first) and read
    # a signed-in person's stored choice: shequn/core/middleware.py.
    "shequn.core.middleware.LanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "shequn.core.middleware.DomainErrorMiddleware",
]

# The benchmark's naive reference endpoint exists only when explicitly asked for (bench/order_create.py).
SHEQUN_BENCH_ENDPOINTS = env_bool("SHEQUN_BENCH_ENDPOINTS", False)
ROOT_URLCONF = "shequn.demo.bench_urls" if SHEQUN_BENCH_ENDPOINTS else "shequn.urls"
WSGI_APPLICATION = "shequn.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "shequn" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "shequn.context_processors.shequn",
            ],
            "builtins": ["shequn.core.templatetags.shequn"],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'shequn.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Connections persist as on PostgreSQL (a thread keeps its own; opening one and setting the
    # pragmas cost about an eighth of an order's CPU when every request opened its own).
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers and one writer work at once; IMMEDIATE takes the write lock at
        # BEGIN so two writers queue on busy_timeout instead of failing to upgrade a lock.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["TEST"] = (
        {"NAME": str(VAR_DIR / "test.sqlite3")} if env_bool("SHEQUN_TEST_SQLITE_FILE", False) else {}
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "/login/"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "shequn",
        "url": REDIS_URL,
        "immediate": False,
        "utc": True,
        "consumer": {"workers": 4, "worker_type": "thread", "periodic": True},
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "shequn",
        }
    }
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "shequn",
        "filename": str(VAR_DIR / "huey.sqlite3"),
        # Under pytest (which sets PYTEST_VERSION) tasks run inline and ETA tasks wait in memory.
        "immediate": env_bool("HUEY_IMMEDIATE", "PYTEST_VERSION" in os.environ),
        "utc": True,
        "consumer": {"workers": 2, "worker_type": "thread", "periodic": True},
    }

# Rate-limit counters and lockouts must be shared by every web worker and survive restarts:
# in Redis when there is one (atomic INCR), otherwise in the database (core.RateLimitCounter,
# single-statement F() updates). "cache" with a local-memory cache is per process (check shequn.core.W002).
RATELIMIT_STORE = os.environ.get("RATELIMIT_STORE", "cache" if REDIS_URL else "database")

# The admission gate's limiter (shequn.gate): attempts per member, per client address, per window
# in milliseconds, counted before anything else at the gate. A person taps a few times a second;
# many members share a carrier's address, so the per-address figure is generous. Empty: no limits.
GATE_RATE_LIMITS = [int(part) for part in env_list("SHEQUN_GATE_RATE_LIMITS", "10,200,1000")]
# The gate's own Redis, when it should not share REDIS_URL's: the gate wants a Redis that comes
# back empty after a crash (no persistence, noeviction; docs/adr/0009), Huey's queue wants one
# that keeps its tasks. Empty: the gate uses REDIS_URL.
GATE_REDIS_URL = os.environ.get("GATE_REDIS_URL", "")

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "shequn" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns about a missing root before the first collectstatic
# Front-end libraries come from the npm registry at set-up (package.json, never committed):
# {% static "vendor/htmx/htmx.min.js" %}, {% static "vendor/echarts/echarts.min.js" %}.
NODE_MODULES_DIR = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    BASE_DIR / "shequn" / "static",
    ("vendor/htmx", NODE_MODULES_DIR / "htmx.org" / "dist"),
    ("vendor/echarts", NODE_MODULES_DIR / "echarts" / "dist"),
]
# Uploaded media in the embedded mode are served by granian's static mount (scripts/run);
# behind a real front server, that server serves MEDIA_ROOT.
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = (
    False  # htmx reads the token from the cookie-free meta tag; the cookie stays readable for API clients
)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The Huey consumer installs its own handler; propagating too would print every line twice.
        "huey": {"propagate": False},
        # httpx logs each request's URL at INFO, and WeChat's APIs take the AppSecret in the query.
        "httpx": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},  # the same for requests, which wechatpy uses
    },
}

# --- shequn domain settings -------------------------------------------------------
# Member sign-in by one-time code.
OTP_TTL_SECONDS = 10 * 60
OTP_MAX_ATTEMPTS = 5  # wrong guesses before a code is burnt
# Limits are per (phone, IP) and per IP, never per phone or account alone: knowing someone's
# phone number or username must not be enough to lock them out from elsewhere.
OTP_SEND_LIMIT_PER_PHONE_AND_IP = (5, 60 * 60)  # at most 5 codes an hour for one phone from one IP
OTP_SEND_LIMIT_PER_IP = (20, 60 * 60)
OTP_RESEND_INTERVAL_SECONDS = 60  # per phone, from anywhere: at most one text a minute
OTP_VERIFY_LIMIT_PER_PHONE_AND_IP = (20, 60 * 60)  # code checks for one phone from one IP an hour
OTP_VERIFY_LIMIT_PER_IP = (60, 60 * 60)
LOGIN_LIMIT_PER_IP = (30, 10 * 60)  # staff password attempts per IP per 10 minutes, any usernames
# Staff password failures lock the (username, IP) pair with a growing lockout: after
# LOGIN_FAILURES_BEFORE_LOCKOUT failures, BASE seconds, doubling with every further failure up
# to MAX; failures are remembered for a day and forgotten on a successful sign-in.
LOGIN_FAILURES_BEFORE_LOCKOUT = 5
LOGIN_LOCKOUT_BASE_SECONDS = 60
LOGIN_LOCKOUT_MAX_SECONDS = 60 * 60
LOGIN_FAILURE_MEMORY_SECONDS = 24 * 60 * 60
# The development default writes codes to the log (check shequn.accounts.W001 flags it for production).
SMS_BACKEND = os.environ.get("SMS_BACKEND", "shequn.accounts.sms.ConsoleSmsBackend")
SMS_HTTP_URL = os.environ.get("SMS_HTTP_URL", "")  # for shequn.accounts.sms.HttpSmsBackend
SMS_HTTP_TOKEN = os.environ.get("SMS_HTTP_TOKEN", "")
NOTIFICATION_CHANNELS = ["shequn.notifications.channels.InboxChannel"]

# Payments: the gateways members may pay with, by name ("sandbox", "cod"). The sandbox speaks
# WeChat Pay v3 and its cashier takes no money; its keys live under VAR_DIR/sandbox-pay.
# Left out, its cashier and API pages answer 404. In production it is a start-up error
# (check shequn.payments.E001) unless SHEQUN_ALLOW_SANDBOX_IN_PRODUCTION=1 says this is a demo.
# "wechat" is real WeChat Pay (JSAPI) for each shop whose owner entered a complete merchant
# configuration in the console; other shops keep the sandbox (payments.gateways.online_gateway).
PAYMENT_GATEWAYS = env_list("SHEQUN_PAYMENT_GATEWAYS", "sandbox,wechat,cod")
SHEQUN_ALLOW_SANDBOX_IN_PRODUCTION = env_bool("SHEQUN_ALLOW_SANDBOX_IN_PRODUCTION", False)
PAYMENT_NOTIFY_URL = os.environ.get("PAYMENT_NOTIFY_URL", f"{SITE_URL}/api/v1/payments/notify/sandbox")
SANDBOX_PAY_MCHID = os.environ.get("SANDBOX_PAY_MCHID", "1900000001")
SANDBOX_PAY_APPID = os.environ.get("SANDBOX_PAY_APPID", "wxd0000000000sandbox")
SANDBOX_PAY_KEY_DIR = VAR_DIR / "sandbox-pay"
# Deliver sandbox notifications by HTTP POST (as WeChat does); tests may call the view directly.
# Under pytest notifications are delivered inline (through the callback view) unless a test
# asks for HTTP delivery against its live server.
SANDBOX_PAY_DELIVERY = os.environ.get("SANDBOX_PAY_DELIVERY", "inline" if "PYTEST_VERSION" in os.environ else "http")
# Empty: the sandbox's API runs in process. Set to e.g. http://127.0.0.1:8000/sandbox-pay to talk HTTP.
SANDBOX_PAY_API_BASE = os.environ.get("SANDBOX_PAY_API_BASE", "")
PAYMENT_NOTIFICATION_MAX_SKEW_SECONDS = 300
# WeChat Pay's API host for shops with a live merchant configuration.
WECHAT_PAY_API_BASE = os.environ.get("WECHAT_PAY_API_BASE", "https://api.mch.weixin.qq.com")

# WeChat official account (服务号): web authorisation inside WeChat's browser and JS-SDK share
# cards. Off unless WECHAT_APP_ID is set (the demo works without); check shequn.wechat.W001
# warns when the AppSecret is missing. WECHAT_FAKE talks to the local fake (shequn.wechat.fake).
WECHAT_APP_ID = os.environ.get("WECHAT_APP_ID", "")
WECHAT_APP_SECRET = os.environ.get("WECHAT_APP_SECRET", "")
WECHAT_OAUTH_SCOPE = os.environ.get("WECHAT_OAUTH_SCOPE", "snsapi_base")  # or snsapi_userinfo (asks consent)
WECHAT_API_BASE = os.environ.get("WECHAT_API_BASE", "https://api.weixin.qq.com")
WECHAT_OPEN_BASE = os.environ.get("WECHAT_OPEN_BASE", "https://open.weixin.qq.com")
WECHAT_FAKE = env_bool("WECHAT_FAKE", False)
WECHAT_OAUTH_STATE_MAX_AGE_SECONDS = 10 * 60


# Subscribe messages (订阅通知) of the official account: our template keys
# (notifications.enums.SubscribeTemplate) → the template picked in the account's admin, either its
# id alone (its keywords then are thing1 = title, thing2 = note) or {"id": …, "fields": {our field:
# its keyword}}, our fields being title, note and time (notifications.selectors.SUBSCRIBE_FIELDS).
# The environment gives "TEMPLATE_ID" or "TEMPLATE_ID title=thing1 note=thing3 time=time2". With the
# app id and a template id set, that event also goes out to members who accepted the template.
def _subscribe_template(value: str) -> str | dict[str, Any]:
    template_id, *pairs = value.split() or [""]
    if not pairs:
        return template_id
    return {"id": template_id, "fields": dict(pair.split("=", 1) for pair in pairs)}


WECHAT_SUBSCRIBE_TEMPLATES = {
    key: _subscribe_template(os.environ.get(f"WECHAT_SUBSCRIBE_TEMPLATE_{key.upper()}", ""))
    for key in ("order_paid", "order_shipped", "pickup_ready", "flashsale_started", "refund_done")
}
if WECHAT_APP_ID and any(WECHAT_SUBSCRIBE_TEMPLATES.values()):
    NOTIFICATION_CHANNELS.append("shequn.notifications.channels.WechatSubscribeChannel")

ORDER_UNPAID_TIMEOUT_MINUTES_DEFAULT = 30
AFTER_SALES_WINDOW_DAYS = 7

if SHEQUN_PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
