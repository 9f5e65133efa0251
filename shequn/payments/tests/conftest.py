import pytest

from shequn.testing.payments import live_wechat, sandbox, sandbox_key_dir

__all__ = ["live_wechat", "sandbox", "sandbox_key_dir"]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The factories give every user a password; the default PBKDF2 costs ~1 s per test here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
