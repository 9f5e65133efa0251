"""The scale-out configuration with real components: two web processes, one Huey consumer.

Two granian WSGI processes (as ``scripts/run`` starts one, on different ports) and one
``manage.py run_huey`` consumer share the PostgreSQL test database (the cluster of
``scripts/with-postgres``) and one throwaway Redis (cache and RedisHuey). Everything the
tests assert goes through HTTP on 127.0.0.1:

- the OTP send limit per phone and IP is one counter in Redis, not one per process;
- an order created through process 1 is read and paid through process 2; the payer pays at the
  (sandbox) gateway, whose notification the Huey consumer delivers over HTTP to process 1, and
  process 2 reports the order paid; the member's own pay-page flow works across the two as well;
- an unpaid order past its deadline is closed by the consumer (RedisHuey ETA task) exactly
  once, and its stock comes back.

The processes start once for the module. Each test seeds committed data with the ORM in this
process (the servers use the very database the test run uses: pytest-django's ``test_<name>``),
which pytest-django flushes after the test; Redis is emptied before each test.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import redis
from django.conf import settings
from django.db import connection
from django.db.models import F

from shequn.accounts.actions import do_issue_token
from shequn.accounts.models import OtpCode, User
from shequn.payments.models import GatewayNotification
from shequn.testing.factories import PickupPointFactory, ProductFactory, ShopFactory, SkuFactory
from shequn.testing.redis import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
START_TIMEOUT_SECONDS = 60.0
WAIT_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 15.0
STOCK = 8  # at most LOW_STOCK_THRESHOLD, so members see the exact count ("仅剩8件")
ACCESS_LOG_FORMAT = "ACCESS %(method)s %(path)s %(status)d"
NOTIFY_PATH = "/api/v1/payments/notify/sandbox"


@dataclass
class Seeded:
    token: str
    shop_slug: str  # unpaid timeout as configured by default (30 minutes)
    product_id: int
    sku_id: int
    pickup_point_id: int
    quick_shop_slug: str  # unpaid timeout 0: orders are due to close at once
    quick_product_id: int
    quick_sku_id: int
    quick_pickup_point_id: int


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def output(self, since: int = 0) -> str:
        """The process's output (from byte ``since`` on)."""
        if not self.log.exists():
            return ""
        with self.log.open("rb") as handle:
            handle.seek(since)
            return handle.read().decode(errors="replace")

    def size(self) -> int:
        return self.log.stat().st_size if self.log.exists() else 0


@dataclass
class Servers:
    ports: tuple[int, int]
    web: tuple[httpx.Client, httpx.Client]
    processes: list[Process]
    redis_url: str
    env: dict[str, str]  # what the processes run with, for a one-off process of the same deployment

    def process(self, name: str) -> Process:
        return next(p for p in self.processes if p.name == name)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} (exit {p.popen.poll()}) ---\n{p.output()[-4000:]}" for p in self.processes)


@dataclass
class Stack:
    servers: Servers
    seeded: Seeded
    log_start: dict[str, int]  # where each process's log stood when the test began

    def output(self, name: str) -> str:
        """What process ``name`` wrote during this test (the processes serve the whole module)."""
        return self.process(name).output(since=self.log_start[name])

    @property
    def web(self) -> tuple[httpx.Client, httpx.Client]:
        return self.servers.web

    def process(self, name: str) -> Process:
        return self.servers.process(name)


def wait_for[T](what: str, probe: Callable[[], T | None], *, timeout: float = WAIT_TIMEOUT_SECONDS) -> T:
    """Poll ``probe`` until it returns something other than None or False; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result is not None and result is not False:
            return result
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}", pytrace=False)
        time.sleep(0.2)


def database_url(settings_dict: dict[str, Any]) -> str:
    """A DATABASE_URL for the database this test run actually uses (pytest-django's test_<name>)."""
    user = quote(str(settings_dict.get("USER") or ""), safe="")
    password = quote(str(settings_dict.get("PASSWORD") or ""), safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = quote(str(settings_dict.get("HOST") or "127.0.0.1"), safe="")  # a socket directory becomes %2F...
    port = settings_dict.get("PORT") or "5432"
    return f"postgres://{credentials}{host}:{port}/{quote(str(settings_dict['NAME']), safe='')}"


def seed() -> Seeded:
    shop = ShopFactory.create(slug="scaleout", name="扩容验证店")
    product = ProductFactory.create(shop=shop, title="扩容三文鱼", returnable=False)
    sku = SkuFactory.create(product=product, stock=STOCK)
    point = PickupPointFactory.create(shop=shop)
    quick_shop = ShopFactory.create(slug="scaleout-quick", name="即时关单店", unpaid_timeout_minutes=0)
    quick_product = ProductFactory.create(shop=quick_shop, title="扩容鲈鱼", returnable=False)
    quick_sku = SkuFactory.create(product=quick_product, stock=STOCK)
    quick_point = PickupPointFactory.create(shop=quick_shop)
    member = User.objects.create_user(username="scaleout-member", phone="13712345678")
    return Seeded(
        token=do_issue_token(member, name="scaleout").token,
        shop_slug=shop.slug,
        product_id=product.pk,
        sku_id=sku.pk,
        pickup_point_id=point.pk,
        quick_shop_slug=quick_shop.slug,
        quick_product_id=quick_product.pk,
        quick_sku_id=quick_sku.pk,
        quick_pickup_point_id=quick_point.pk,
    )


def server_env(*, database: str, redis_location: str, var_dir: str, site_port: int) -> dict[str, str]:
    proxies = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
    env = {
        key: value
        for key, value in os.environ.items()
        # PYTEST_* would switch settings to the test defaults (inline payment delivery).
        if not key.startswith("PYTEST_") and key.lower() not in proxies and key != "DATABASE_URL_REPLICA"
    }
    site = f"http://127.0.0.1:{site_port}"
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "shequn.settings",
            "DATABASE_URL": database,
            "REDIS_URL": redis_location,
            "SHEQUN_VAR_DIR": var_dir,  # shared: the sandbox's keys must be the same in every process
            "SITE_URL": site,
            "PAYMENT_NOTIFY_URL": f"{site}{NOTIFY_PATH}",
            "SANDBOX_PAY_DELIVERY": "http",
            "SANDBOX_PAY_API_BASE": "",
            "DEBUG": "0",
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            "NO_PROXY": "127.0.0.1,localhost",
        }
    )
    return env


def start(name: str, command: list[str], env: dict[str, str], log_dir: Path) -> Process:
    log = log_dir / f"{name}.log"
    with log.open("wb") as handle:
        # Fixed commands (granian, manage.py) from this virtualenv, no shell.
        popen = subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)  # noqa: S603
    return Process(name=name, popen=popen, log=log)


def granian(port: int) -> list[str]:
    # The command of scripts/run, with an access log the tests read.
    return [
        str(BIN / "granian"),
        "--interface",
        "wsgi",
        "shequn.wsgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--blocking-threads",
        "4",
        "--access-log",
        "--access-log-fmt",
        ACCESS_LOG_FORMAT,
    ]


def stop(processes: list[Process]) -> None:
    for process in processes:
        if process.popen.poll() is None:
            process.popen.terminate()
    for process in processes:
        try:
            process.popen.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.popen.kill()
            process.popen.wait(timeout=STOP_TIMEOUT_SECONDS)


def answers(client: httpx.Client, process: Process) -> bool:
    if process.popen.poll() is not None:
        pytest.fail(f"{process.name} exited with {process.popen.returncode}:\n{process.output()[-4000:]}")
    try:
        return client.get("/api/v1/openapi.json").status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def servers(django_db_setup: None, django_db_blocker: Any, redis_url: str) -> Iterator[Servers]:
    """Two granian web processes and one Huey consumer on the test database and one Redis."""
    if connection.vendor != "postgresql":
        pytest.fail(
            f"the scale-out tests need PostgreSQL, not {connection.vendor}: run them through "
            "`scripts/with-postgres .venv/bin/pytest -m postgres` (make test does).",
            pytrace=False,
        )
    with django_db_blocker.unblock():
        url = database_url(connection.settings_dict)
    work = Path(tempfile.mkdtemp(prefix="shequn-scaleout-"))
    ports = (free_port(), free_port())
    while ports[1] == ports[0]:
        ports = (ports[0], free_port())
    env = server_env(database=url, redis_location=redis_url, var_dir=str(work / "var"), site_port=ports[0])
    processes: list[Process] = []
    clients: list[httpx.Client] = []
    try:
        processes.append(start("web1", granian(ports[0]), env, work))
        processes.append(start("web2", granian(ports[1]), env, work))
        processes.append(start("huey", [sys.executable, "manage.py", "run_huey"], env, work))
        # trust_env=False: never a proxy, only 127.0.0.1.
        clients = [
            httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=20, trust_env=False, follow_redirects=False)
            for port in ports
        ]
        running = Servers(ports=ports, web=(clients[0], clients[1]), processes=processes, redis_url=redis_url, env=env)
        for client, process in zip(clients, processes[:2], strict=True):
            wait_for(f"{process.name} to answer", partial(answers, client, process), timeout=START_TIMEOUT_SECONDS)
        wait_for("the Huey consumer to start", lambda: "consumer" in running.process("huey").output().lower())
        yield running
        for process in processes:
            assert process.popen.poll() is None, f"{process.name} died during the tests:\n{running.logs()}"
    finally:
        for client in clients:
            client.close()
        stop(processes)
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture
def stack(transactional_db: None, servers: Servers) -> Stack:
    """Fresh data (committed: the servers see it) and an empty Redis: no counters, no queued tasks."""
    # pytest-django flushes the database after each transactional test; Redis is ours to empty.
    with redis.Redis.from_url(servers.redis_url) as client:
        client.flushdb()
    for web in servers.web:
        web.cookies.clear()
    log_start = {process.name: process.size() for process in servers.processes}
    return Stack(servers=servers, seeded=seed(), log_start=log_start)


# --- helpers over HTTP ---------------------------------------------------------------------


def member_headers(stack: Stack) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.seeded.token}", "Idempotency-Key": uuid.uuid4().hex}


def send_otp(client: httpx.Client, phone: str) -> httpx.Response:
    return client.post("/api/v1/accounts/otp/send", json={"phone": phone})


def order_of(client: httpx.Client, stack: Stack, number: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/orders/{number}", headers=member_headers(stack))
    assert response.status_code == 200, response.text
    return dict(response.json())


def stock_label(client: httpx.Client, shop_slug: str, product_id: int) -> str:
    response = client.get(f"/api/v1/catalog/shops/{shop_slug}/products/{product_id}")
    assert response.status_code == 200, response.text
    (sku,) = response.json()["skus"]
    return str(sku["stock_label"])


def create_order(client: httpx.Client, stack: Stack, *, sku_id: int, pickup_point_id: int, quantity: int) -> dict:
    body = {
        "sku_id": sku_id,
        "quantity": quantity,
        "fulfilment": "pickup",
        "pickup_point_id": pickup_point_id,
        "payment_method": "sandbox",
    }
    response = client.post("/api/v1/orders", json=body, headers=member_headers(stack))
    assert response.status_code == 201, response.text
    return dict(response.json())


# --- the tests -----------------------------------------------------------------------------


def test_otp_send_limit_is_one_counter_across_web_processes(stack: Stack) -> None:
    limit, _window = settings.OTP_SEND_LIMIT_PER_PHONE_AND_IP
    interval = int(settings.OTP_RESEND_INTERVAL_SECONDS)
    phone = "13912340001"
    web = stack.web
    for sent in range(limit):
        here, other = web[sent % 2], web[(sent + 1) % 2]
        response = send_otp(here, phone)
        assert response.status_code == 200, f"send {sent + 1} of {limit}: {response.text}"
        # An immediate resend on the other process is refused (the last code is in the shared database).
        response = send_otp(other, phone)
        assert response.status_code == 429, response.text
        assert response.json()["code"] == "otp_resend_too_soon"
        # Step past the resend interval without waiting a minute: only the cache counter stands now.
        OtpCode.objects.filter(phone=phone).update(created_at=F("created_at") - timedelta(seconds=interval + 1))
    # Each process has taken about limit/2 sends; with a per-process cache both would still accept.
    for client in (web[limit % 2], web[(limit + 1) % 2]):
        response = send_otp(client, phone)
        assert response.status_code == 429, response.text
        assert response.json()["code"] == "rate_limited", response.text
    # The counter is the phone's: another phone from the same address still gets a code.
    assert send_otp(web[0], "13912340002").status_code == 200


def payer_pays_at_the_gateway(stack: Stack, pay_url: str) -> None:
    """The payer pays "at WeChat": the sandbox's books change outside both web processes.

    A one-off process of the same deployment (same database, same Redis) plays the gateway; its
    TRANSACTION.SUCCESS notification goes onto the RedisHuey queue, as WeChat's would go out.
    """
    match = re.fullmatch(r"/sandbox-pay/([^/]+)/", pay_url)
    assert match is not None, pay_url
    code = (
        f"import django; django.setup(); from shequn.payments.sandbox import server; server.confirm({match.group(1)!r})"
    )
    # A fixed interpreter and code, no shell.
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], cwd=ROOT, env=stack.servers.env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-4000:]


def sandbox_notifications(number: str) -> list[GatewayNotification]:
    """The gateway's own callbacks for the order (a query's result is stored as "query-...")."""
    return list(
        GatewayNotification.objects.filter(
            gateway="sandbox", event_type="TRANSACTION.SUCCESS", resource__out_trade_no=number
        ).exclude(notification_id__startswith="query-")
    )


def notification_reached(stack: Stack, name: str) -> bool:
    return f"ACCESS POST {NOTIFY_PATH} 204" in stack.output(name)


def test_order_from_process_one_is_paid_through_process_two(stack: Stack) -> None:
    web1, web2 = stack.web
    seeded = stack.seeded
    created = create_order(web1, stack, sku_id=seeded.sku_id, pickup_point_id=seeded.pickup_point_id, quantity=2)
    number = created["number"]
    assert created["status"] == "pending_payment"

    seen = order_of(web2, stack, number)
    assert (seen["status"], seen["total_fen"]) == ("pending_payment", created["total_fen"])
    assert stock_label(web2, seeded.shop_slug, seeded.product_id) == f"仅剩{STOCK - 2}件"

    response = web2.post(f"/api/v1/payments/orders/{number}/pay", headers=member_headers(stack))
    assert response.status_code == 200, response.text
    pay_url = response.json()["pay_url"]
    assert web2.get(pay_url).status_code == 200  # the cashier page of the prepay process 2 opened

    payer_pays_at_the_gateway(stack, pay_url)

    # The member's order endpoint never asks the gateway: only the notification can make it paid.
    paid = wait_for(
        "process 2 to report the order paid",
        lambda: (order := order_of(web2, stack, number))["status"] == "paid" and order,
    )
    assert paid["paid_at"] is not None
    assert [event["to_status"] for event in paid["timeline"]].count("paid") == 1
    # The consumer took the notification off Redis and POSTed it to process 1 (PAYMENT_NOTIFY_URL).
    wait_for("process 1's access log to show the notification", lambda: notification_reached(stack, "web1"))
    assert f"POST {NOTIFY_PATH}" not in stack.output("web2")
    assert "Executing shequn.payments.sandbox.tasks.deliver_notification_task" in stack.output("huey")
    (notification,) = sandbox_notifications(number)
    assert (notification.outcome, notification.deliveries) == ("applied", 1)
    payment = web2.get(f"/api/v1/payments/orders/{number}", headers=member_headers(stack))
    assert payment.status_code == 200, payment.text
    assert (payment.json()["status"], payment.json()["amount_fen"]) == ("succeeded", created["total_fen"])


def test_member_paying_on_the_pay_page_of_process_two(stack: Stack) -> None:
    web1, web2 = stack.web
    seeded = stack.seeded
    created = create_order(web2, stack, sku_id=seeded.sku_id, pickup_point_id=seeded.pickup_point_id, quantity=1)
    number = created["number"]
    response = web1.post(f"/api/v1/payments/orders/{number}/pay", headers=member_headers(stack))
    assert response.status_code == 200, response.text
    pay_url = response.json()["pay_url"]

    page = web2.get(pay_url)
    assert page.status_code == 200, page.text
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert csrf is not None, "the sandbox pay page has no CSRF token"
    confirmed = web2.post(pay_url, data={"action": "confirm", "csrfmiddlewaretoken": csrf.group(1)})
    assert confirmed.status_code == 302, confirmed.text

    # Back from the pay page, process 2 asked the gateway at once (WeChat's advice): paid already.
    order = order_of(web2, stack, number)
    assert order["status"] == "paid"
    # The notification still arrives through the consumer at process 1 and changes nothing more.
    wait_for("the consumer's notification to reach process 1", lambda: notification_reached(stack, "web1"))
    (notification,) = wait_for("the notification to be stored", lambda: sandbox_notifications(number) or None)
    # "ignored" (already paid) normally; "applied" if the consumer beat the pay page's own query.
    assert notification.outcome in {"applied", "ignored"}
    assert notification.deliveries == 1
    assert [event["to_status"] for event in order_of(web1, stack, number)["timeline"]].count("paid") == 1


def test_unpaid_order_is_closed_once_by_the_redis_huey_consumer(stack: Stack) -> None:
    web1, web2 = stack.web
    seeded = stack.seeded
    assert stock_label(web2, seeded.quick_shop_slug, seeded.quick_product_id) == f"仅剩{STOCK}件"
    # The shop's unpaid timeout is 0 minutes: the close task is scheduled (ETA) for the moment of checkout.
    created = create_order(
        web1, stack, sku_id=seeded.quick_sku_id, pickup_point_id=seeded.quick_pickup_point_id, quantity=3
    )
    number = created["number"]
    assert created["status"] == "pending_payment"
    assert stock_label(web2, seeded.quick_shop_slug, seeded.quick_product_id) == f"仅剩{STOCK - 3}件"

    closed = wait_for(
        "the consumer to close the unpaid order",
        lambda: (order := order_of(web2, stack, number))["status"] == "closed" and order,
    )
    assert closed["closed_at"] is not None
    assert [event["to_status"] for event in closed["timeline"]].count("closed") == 1
    assert stock_label(web2, seeded.quick_shop_slug, seeded.quick_product_id) == f"仅剩{STOCK}件"
    assert "Executing shequn.orders.tasks.close_expired_order" in stack.output("huey")
    # Paying a closed order is refused.
    response = web1.post(f"/api/v1/payments/orders/{number}/pay", headers=member_headers(stack))
    assert response.status_code == 409, response.text
