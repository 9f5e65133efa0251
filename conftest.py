"""Fixtures shared by the whole suite. PostgreSQL and browser fixtures live in shequn/testing."""

import pytest
from django.core.cache import cache

pytest_plugins = ["shequn.testing.postgres", "shequn.testing.browser"]


@pytest.fixture(autouse=True)
def _clear_cache():
    # Rate-limit counters live in the cache; every test starts with none.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _media_root(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
