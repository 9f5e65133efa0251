"""Fixtures shared by the whole suite. PostgreSQL, Redis and browser fixtures live in shequn/testing."""

import pytest
from django.core.cache import cache
from django.utils import translation
from huey.contrib.djhuey import HUEY

pytest_plugins = ["shequn.testing.postgres", "shequn.testing.redis", "shequn.testing.browser"]


@pytest.fixture(autouse=True)
def _default_language():
    # A request in another language (a test client's, the thin front's) leaves that language
    # active in this thread; every test starts, and ends, in the default language.
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _clear_cache():
    # Rate-limit counters live in the cache; every test starts with none.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_gate():
    # The process-wide admission gate (LocalGate without REDIS_URL) outlives a test's database
    # rows, and ids are reused after a rollback: every test starts with an empty one, and with
    # throttles (the gate's sold-out checks) that remember no item.
    from shequn.core.throttle import forget_everything
    from shequn.gate.engine import use_gate
    from shequn.gate.local import LocalGate

    forget_everything()
    fresh = LocalGate()
    previous = use_gate(fresh)
    yield fresh
    use_gate(previous)


@pytest.fixture(autouse=True)
def _clear_huey_schedule():
    # Huey runs immediately under pytest but keeps ETA tasks in memory for the process: a test's
    # leftover scheduled tasks must not run in (or be counted by) the next test.
    HUEY.storage.flush_all()
    yield
    HUEY.storage.flush_all()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The factories give every user a password; PBKDF2's deliberate slowness (about a second
    # each on this machine) would dominate the suite. Hashing itself is Django's, not ours, to test.
    # PBKDF2 stays second so a hash made outside this fixture still verifies.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]


@pytest.fixture(autouse=True)
def _media_root(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
