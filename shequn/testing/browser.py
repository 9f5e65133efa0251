"""pytest plugin: Playwright driving Debian's Chromium against pytest-django's live server.

Fixtures:
- ``browser`` (session): one headless Chromium (``/usr/bin/chromium``, never a downloaded build).
- ``page`` (per test): a fresh context with a phone viewport (390x844), zh-CN, ``base_url`` set to the
  live server, so ``page.goto("/login/")`` works.
- ``new_page`` (per test): a factory for more isolated pages, e.g. the operator next to the member.

Tests using these fixtures are marked ``browser`` automatically. On failure a screenshot of every
open page goes to ``test-results/``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

CHROMIUM_PATH = os.environ.get("SHEQUN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium keeps dialling Google's hosts, which this network refuses.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MOBILE_VIEWPORT = {"width": 390, "height": 844}
# One patience for actions and assertions alike: on a loaded 2-core machine an htmx swap can
# take longer than Playwright's 5 s default for expect(), while actions already waited 10 s.
TIMEOUT_MS = float(os.environ.get("SHEQUN_BROWSER_TIMEOUT_MS", "10000"))
RESULTS_DIR = Path(os.environ.get("SHEQUN_TEST_RESULTS", "test-results"))
BROWSER_FIXTURES = {"browser", "page", "new_page"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if BROWSER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)
    # Browser tests run last: once Playwright's event loop lives in the main thread (and
    # DJANGO_ALLOW_ASYNC_UNSAFE is set for it), the tests after it would run in a changed world.
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_call_failed_key] = report.failed
    return report


_call_failed_key = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM_PATH).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM_PATH}: install Debian's package (apt-get install chromium) "
            "or run `make test`, which installs it.",
            pytrace=False,
        )
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    # Playwright's sync API keeps an event loop running in this thread for the whole session;
    # Django would otherwise refuse every ORM call the tests make from it.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    home_dir = tempfile.mkdtemp(prefix="shequn-chromium-home-")
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM_PATH,
            headless=True,
            # launch() gives Chromium a fresh, empty profile of its own; HOME points at a fresh
            # directory too, so nothing from a previous run or the machine's user leaks in.
            args=CHROMIUM_ARGS,
            env={**os.environ, "HOME": home_dir},
        )
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
        shutil.rmtree(home_dir, ignore_errors=True)
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _context_options(base_url: str) -> dict[str, Any]:
    return {
        "base_url": base_url,
        "viewport": MOBILE_VIEWPORT,
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
        "locale": "zh-CN",
        "timezone_id": "Asia/Shanghai",
        "user_agent": (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.50 NetType/WIFI Language/zh_CN"
        ),
    }


@pytest.fixture
def new_page(browser: Browser, live_server: Any, request: pytest.FixtureRequest) -> Iterator[Callable[..., Page]]:
    """Factory: ``new_page()`` opens a page in its own context (own cookies), against the live server."""
    contexts: list[BrowserContext] = []

    def open_page(**overrides: Any) -> Page:
        context = browser.new_context(**{**_context_options(live_server.url), **overrides})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page

    if request.node.stash.get(_call_failed_key, False):
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-150:]
        for context_index, context in enumerate(contexts):
            for page_index, open_page_ in enumerate(context.pages):
                # A failed screenshot must not hide the test's own failure.
                with contextlib.suppress(Exception):
                    open_page_.screenshot(path=str(RESULTS_DIR / f"{name}-{context_index}-{page_index}.png"))
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    """A mobile page (390x844, zh-CN) against the live server; ``page.goto("/path/")``."""
    return new_page()


@pytest.fixture
def signed_in_page(new_page: Callable[..., Page], live_server: Any) -> Callable[..., Page]:
    """Factory: ``signed_in_page(user, **options)`` opens a page already signed in as ``user``
    (a real session cookie, as after the sign-in form); ``options`` as for ``new_page``."""

    def open_as(user: Any, **options: Any) -> Page:
        from django.conf import settings
        from django.test import Client

        client = Client()
        client.force_login(user)
        page = new_page(**options)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
        return page

    return open_as


DESKTOP = {"viewport": {"width": 1280, "height": 900}, "is_mobile": False, "has_touch": False}


def buy_now_and_pay(page: Page, *, delivery_slot: str | None = None) -> None:
    """On a product page: buy now, submit the checkout as filled in (choosing the delivery slot
    labelled ``delivery_slot`` when given), pay in the sandbox cashier, and wait until the order
    page says paid."""
    from playwright.sync_api import expect

    page.get_by_test_id("buy-now").click()
    expect(page.get_by_test_id("checkout-form")).to_be_visible()
    if delivery_slot is not None:
        page.locator(f'[data-testid="slot-option"][data-label="{delivery_slot}"]').check()
    page.get_by_test_id("submit-order").click()
    expect(page.get_by_test_id("order-number")).to_be_visible()
    page.get_by_test_id("pay-button").click()
    page.get_by_test_id("pay-confirm").click()
    expect(page.get_by_test_id("order-status")).to_have_attribute("data-status", "paid")
