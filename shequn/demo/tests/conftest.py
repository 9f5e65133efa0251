import pytest

from shequn.testing.payments import sandbox, sandbox_key_dir
from shequn.testing.two_shops import operator, shop

__all__ = ["operator", "sandbox", "sandbox_key_dir", "shop"]


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run on-commit callbacks (the sandbox's payment notification) as production does."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
