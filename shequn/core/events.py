"""Side effects run after commit, through this one helper (tasks, notifications)."""

from collections.abc import Callable
from functools import partial
from typing import Any

from django.db import transaction


def on_commit(func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Run ``func(*args, **kwargs)`` once the current transaction commits (at once if none)."""
    transaction.on_commit(partial(func, *args, **kwargs), robust=False)
