"""Server time of the busiest pages with a larger shop: the demo plus 10,000 members and 50,000 orders.

    .venv/bin/python bench/pages.py run                        # SQLite in a temporary SHEQUN_VAR_DIR
    scripts/with-postgres .venv/bin/python bench/pages.py run  # the same on a throwaway PostgreSQL
    .venv/bin/python bench/pages.py report                     # results -> docs/benchmarks.md

``run`` migrates a fresh database, seeds the demo (``seed_demo``), then adds 10,000 members to
the demo's first community and 50,000 paid orders (copies of a demo order with its lines, spread
over those members; 200 of them belong to the member who looks at the pages) in bulk, placed and
paid over the past 90 days as a real shop's would be (about 560 a day, today included), not all
today. Then, in process through Django's test client (the whole request: middleware, view, SQL,
template; no HTTP server), each page is requested 20 times to warm up and 200 times timed: p50 and
p99 server time, the CPU time of this process per request (Python, and SQLite's own work;
PostgreSQL's is in its backend: less moved by other load on the machine than wall time), and the
SQL statements one request makes. tests/test_page_statements.py pins the statement
counts and proves they do not grow with the data; this measures what they cost.

Targets (issue 14): member pages p50 < 20 ms and p99 < 60 ms with this data set.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from docsection import write_section  # bench/ is not a package

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "var" / "bench"
MEMBERS = 10_000
ORDERS = 50_000
DAYS = 90  # the orders are spread over the past DAYS days
MINE = 200  # orders of the member who browses
WARM, TIMED = 20, 200
BATCH = 5_000
MEMBER_PAGES = {"shop home", "product", "community feed", "my orders"}
P50_TARGET_MS, P99_TARGET_MS = 20.0, 60.0


def _setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shequn.settings")
    os.environ["HUEY_IMMEDIATE"] = "1"
    if not os.environ.get("DATABASE_URL"):
        os.environ["SHEQUN_VAR_DIR"] = tempfile.mkdtemp(prefix="shequn-pages-bench-")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)
    call_command("seed_demo", verbosity=0)


def _grow(shop: Any, community: Any, viewer: Any) -> float:
    """10,000 members in the community and 50,000 paid orders, copied from a demo order, in bulk,
    placed over the past 90 days (order n on day n % 90: each day's orders spread over the shop's
    members)."""
    from datetime import timedelta

    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from shequn.accounts.models import User
    from shequn.communities.models import CommunityMembership
    from shequn.orders.models import Order, OrderLine

    started = time.perf_counter()
    unusable = make_password(None)
    member_ids: list[int] = []
    for start in range(0, MEMBERS, BATCH):
        names = [f"pages-bench-{n}" for n in range(start, min(MEMBERS, start + BATCH))]
        User.objects.bulk_create(User(username=name, nickname="成员", password=unusable) for name in names)
        ids = list(User.objects.filter(username__in=names).values_list("pk", flat=True))
        CommunityMembership.objects.bulk_create(CommunityMembership(community=community, user_id=pk) for pk in ids)
        member_ids += ids
    template = Order.objects.filter(shop=shop, paid_at__isnull=False).order_by("pk").first()
    if template is None:
        raise SystemExit("the demo has no paid order to copy")
    lines = list(OrderLine.objects.filter(order=template))
    days: list[list[int]] = [[] for _ in range(DAYS)]
    for start in range(0, ORDERS, BATCH):
        batch = []
        for n in range(start, min(ORDERS, start + BATCH)):
            copy = _copy(template)
            copy.number = f"B{n:012d}"
            copy.user_id = viewer.pk if n < MINE else member_ids[n % len(member_ids)]
            batch.append(copy)
        Order.objects.bulk_create(batch)
        made = dict(Order.objects.filter(number__in=[o.number for o in batch]).values_list("number", "pk"))
        OrderLine.objects.bulk_create(_copy(line, order_id=pk) for pk in made.values() for line in lines)
        for order in batch:
            days[int(order.number[1:]) % DAYS].append(made[order.number])
    now = timezone.now()
    for day, ids in enumerate(days):  # created_at is set on insert (auto_now_add): moved afterwards
        placed = now - timedelta(days=day, minutes=10)
        Order.objects.filter(pk__in=ids).update(created_at=placed, paid_at=placed + timedelta(minutes=5))
    return time.perf_counter() - started


def _copy(row: Any, **changes: Any) -> Any:
    fields = {f.attname: getattr(row, f.attname) for f in row._meta.concrete_fields if not f.primary_key}
    return type(row)(**{**fields, **changes})


def _measure(client: Any, url: str) -> dict[str, Any]:
    from django.db import connection

    for _ in range(WARM):
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
    queries: list[str] = []
    with connection.execute_wrapper(lambda execute, sql, *args: queries.append(sql) or execute(sql, *args)):
        client.get(url)
    times = []
    cpu_started = time.process_time()
    for _ in range(TIMED):
        started = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    cpu_ms = (time.process_time() - cpu_started) * 1000 / TIMED
    times.sort()
    return {
        "url": url,
        "p50_ms": statistics.median(times),
        "p99_ms": times[int(len(times) * 0.99) - 1],
        "statements": len(queries),
        "cpu_ms": cpu_ms,
    }


def run() -> None:
    _setup_django()
    from django.db import connection
    from django.test import Client

    from shequn.catalog.models import Product
    from shequn.communities.models import Community
    from shequn.demo.data import DEMO_SHOP_SLUG
    from shequn.orders.models import Order
    from shequn.shops.models import Shop, StaffMember
    from shequn.testing.orders import make_member

    database = connection.vendor
    shop = Shop.objects.get(slug=DEMO_SHOP_SLUG)
    community = Community.objects.filter(shop=shop).order_by("pk").first()
    product = Product.objects.filter(shop=shop, on_shelf=True).order_by("pk").first()
    viewer = make_member(nickname="看页面的人")
    print(f"[{database}] adding {MEMBERS:,} members and {ORDERS:,} orders", flush=True)
    setup = _grow(shop, community, viewer)
    from shequn.communities.models import CommunityMembership

    CommunityMembership.objects.get_or_create(community=community, user=viewer)
    print(f"[{database}] data ready in {setup:.1f} s ({Order.objects.count():,} orders); measuring", flush=True)
    member, operator = Client(), Client()
    member.force_login(viewer)
    operator.force_login(StaffMember.objects.filter(shop=shop, role="owner").select_related("user").first().user)
    pages = {
        "shop home": (member, f"/s/{shop.slug}/"),
        "product": (member, f"/s/{shop.slug}/p/{product.pk}/"),
        "community feed": (member, f"/c/{community.pk}/"),
        "my orders": (member, "/orders/"),
        "console dashboard": (operator, "/console/"),
        "console orders": (operator, "/console/orders/"),
        "console products": (operator, "/console/products/"),
        "console members": (operator, f"/console/communities/{community.pk}/members/"),
    }
    results = []
    for name, (client, url) in pages.items():
        figures = {"page": name, **_measure(client, url)}
        results.append(figures)
        print(
            f"[{database}] {name:18} p50 {figures['p50_ms']:6.1f} ms  p99 {figures['p99_ms']:6.1f} ms  "
            f"CPU {figures['cpu_ms']:5.1f} ms  {figures['statements']} statements",
            flush=True,
        )
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"pages-{database}.json"
    out.write_text(
        json.dumps(
            {
                "database": database,
                "when": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
                "load": os.getloadavg()[0],
                "setup_seconds": setup,
                "pages": results,
            },
            indent=1,
        )
    )


def report() -> None:
    runs = [json.loads(p.read_text()) for p in sorted(RESULTS_DIR.glob("pages-*.json"))]
    if not runs:
        raise SystemExit("no results: run `bench/pages.py run` first")
    rows = []
    for result in runs:
        for page in result["pages"]:
            target = ""
            if page["page"] in MEMBER_PAGES:
                met = page["p50_ms"] < P50_TARGET_MS and page["p99_ms"] < P99_TARGET_MS
                ratios = f"p50 {page['p50_ms'] / P50_TARGET_MS:.1f}×, p99 {page['p99_ms'] / P99_TARGET_MS:.1f}×"
                target = "met" if met else f"missed ({ratios} the target)"
            rows.append(
                f"| {result['database']} | {page['page']} | {page['p50_ms']:.1f} | {page['p99_ms']:.1f} "
                f"| {page['cpu_ms']:.1f} | {page['statements']} | {target} |"
            )
    when = ", ".join(f"{r['database']} {r['when']} (load {r['load']:.1f})" for r in runs)
    generated = "\n".join(
        [
            "<!-- bench:pages:start (generated by bench/pages.py report) -->",
            f"Runs: {when}; {runs[0]['machine']}. The demo plus {MEMBERS:,} members and {ORDERS:,} paid orders "
            f"placed over the past {DAYS} days; "
            f"{TIMED} timed requests per page after {WARM} warm-up ones, in process (Django test client); "
            "CPU ms: this process's CPU time per request (mean).",
            "",
            "| database | page | p50 ms | p99 ms | CPU ms | statements "
            "| member-page target (p50 < 20 ms, p99 < 60 ms) |",
            "|---|---|---:|---:|---:|---:|---|",
            *rows,
            "<!-- bench:pages:end -->",
        ]
    )
    write_section(
        "pages",
        generated,
        intro="## Pages with a larger shop (`bench/pages.py`)\n\nServer time of the member pages and the "
        "busiest console pages; tests/test_page_statements.py pins their statement counts.",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["run", "report"])
    args = parser.parse_args()
    run() if args.command == "run" else report()


if __name__ == "__main__":
    main()
