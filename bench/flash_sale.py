"""S4 scaled to this machine: 1.9 million reservers, a flash sale of 150,000 units, the buy endpoint
hammered over HTTP on 127.0.0.1, then the claims materialised into orders.

    scripts/with-postgres .venv/bin/python bench/flash_sale.py run     # PostgreSQL + a throwaway Redis
    .venv/bin/python bench/flash_sale.py report                        # results -> docs/benchmarks.md

`make bench` runs both. One run, every phase bounded in time and count:

1. a throwaway redis-server (no persistence) for the gate, the cache and Huey; migrate; 1,900,000
   members (INSERT … SELECT over generate_series) and their reservations (INSERT … SELECT);
2. the S4 sale: 150,000 units, 1 per member, reservers-only for its first 30 minutes (the whole
   run is inside that window, so every attempt also checks the 1.9 M priority set); publishing
   it configures the gate's pool with the 1.9 M reservers (timed); a second sale with 10 million
   units is the steady-state pool for the side-by-side phases;
3. gate tickets signed for 300,000 reservers (S4) and 20,000 members (steady state), API tokens
   for 16 members; granian serves the thin front (ASGI, shequn.front) and, beside it, plain
   Django (WSGI, today's `make run` server) on another port;
4. S4: wrk (one thread, BENCH_FLASH_CONNECTIONS connections) sends attempts through the front,
   each with the next member's ticket, until the units are gone (+2 s) or 60 s; the gate's pool
   is polled for the sell-out moment; then units at the gate, holdings and the claims stream are
   checked against the 150,000 (oversold must be 0);
5. side by side, BENCH_FLASH_SECONDS (10) each, on the same machine in the same run: the same
   attempt through the front and through the Django endpoint (WSGI), then today's checkout
   `POST /api/v1/orders` and the naive ORM endpoint (bench/order_create.py's reference), each with
   the sell-out time it projects for 150,000 units;
6. `flashsales.actions.materialise_claims` in a child process for at most 60 s: orders/s and
   the claims left.

wrk shares the 2 cores with the servers and Redis, as every figure in docs/MEASURED.md does.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from docsection import write_section  # bench/ is not a package
from order_create import free_port, process_tree_cpu_seconds, start_redis, start_server, stop_server

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "var" / "bench" / "flash_sale.json"
RESERVERS = 1_900_000
UNITS = 150_000
S4_TICKETS = 300_000
STEADY_TICKETS = 20_000
STEADY_UNITS = 10_000_000
TOKENS = 16
SELL_OUT_LIMIT_SECONDS = 60.0
MATERIALISE_SECONDS = 60.0
TARGET_ATTEMPTS, TARGET_P99_MS, TARGET_SELL_OUT_S, TARGET_ORDERS = 5_000, 50.0, 60.0, 2_500

WRK_SCRIPT = r"""
-- args: file of header values (one per request, in turn), header name, path, body
local values, header, path, body = {}, nil, nil, nil
local counter = 0
statuses = {}  -- a global: done() reads it from each thread
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  for line in io.lines(args[1]) do values[#values + 1] = line end
  header, path, body = args[2], args[3], args[4]
end
function request()
  counter = counter + 1
  local headers = {["Content-Type"] = "application/json", [header] = values[(counter - 1) % #values + 1]}
  return wrk.format("POST", path, headers, body)
end
function response(status, headers, answer) statuses[status] = (statuses[status] or 0) + 1 end
function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do counts[tostring(status)] = (counts[tostring(status)] or 0) + n end
  end
  local parts = {}
  for status, n in pairs(counts) do parts[#parts + 1] = string.format('"%s": %d', status, n) end
  io.write(string.format('WRK-JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"socket_errors": %d, "statuses": {%s}}\n', summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    table.concat(parts, ", ")))
end
"""


def _environment(redis_url: str) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "shequn.settings",
            "REDIS_URL": redis_url,
            "SHEQUN_BENCH_ENDPOINTS": "1",
            # Per member as in production; per address off: every client here is 127.0.0.1.
            "SHEQUN_GATE_RATE_LIMITS": "10,100000000,1000",
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    os.environ.setdefault("SECRET_KEY", "bench-flash-sale-" + "x" * 40)  # servers and tickets share it


def _setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)


def _load_members(count: int = RESERVERS, prefix: str = "flash-") -> dict[str, Any]:
    """``count`` members (S4: 1.9 M), set-based: one INSERT … SELECT over generate_series (constant
    columns from the model's defaults, as a signup would leave them)."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django.utils import timezone

    from shequn.accounts.models import User

    now = timezone.now()
    constant = {"password": make_password(None), "date_joined": now}
    fields = [f for f in User._meta.concrete_fields if not f.primary_key and f.attname not in ("username", "nickname")]
    values = [
        f.get_db_prep_save(constant[f.attname] if f.attname in constant else f.get_default(), connection)
        for f in fields
    ]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in ["username", "nickname", *(f.column for f in fields)])
    marks = ", ".join(["%s"] * len(fields))
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(User._meta.db_table)} ({columns}) "  # noqa: S608  (names from the model)
            f"SELECT %s::text || g, '成员' || g, {marks} FROM generate_series(1, %s) g RETURNING id",
            [prefix, *values, count],
        )
        ids = sorted(row[0] for row in cursor.fetchall())
    return {"first_id": ids[0], "last_id": ids[-1], "seconds": time.perf_counter() - started}


def _reserve_all(sale_id: int, first_id: int, last_id: int) -> float:
    from django.db import connection
    from django.utils import timezone

    from shequn.flashsales.models import FlashSale, Reservation

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Reservation._meta.db_table} (sale_id, user_id, created_at) "  # noqa: S608
            "SELECT %s, id, %s FROM accounts_user WHERE id BETWEEN %s AND %s",
            [sale_id, timezone.now(), first_id, last_id],
        )
        cursor.execute("ANALYZE")
    FlashSale.objects.filter(pk=sale_id).update(reservation_count=last_id - first_id + 1)
    return time.perf_counter() - started


def _build(work: Path) -> dict[str, Any]:
    from datetime import timedelta

    from django.utils import timezone

    from shequn.accounts.actions import do_issue_token
    from shequn.flashsales import actions, tickets
    from shequn.flashsales.actions import ItemInput, SaleInput, SessionInput
    from shequn.shops.models import PickupPoint
    from shequn.testing.orders import make_member, make_shop, make_sku, make_staff

    shop = make_shop(name="秒杀压测店", slug="flash-bench")
    operator = make_staff(shop)
    phone = make_sku(shop, price_fen=399900, stock=UNITS, title="旗舰手机", returnable=False)
    steady = make_sku(shop, price_fen=3500, stock=STEADY_UNITS, title="压测三文鱼", returnable=False)
    shelf = make_sku(shop, price_fen=3500, stock=10_000_000, title="下单压测", returnable=False)
    point = PickupPoint.objects.create(shop=shop, name="压测自提点", address="杭州市滨江区")
    now = timezone.now()

    def sale(sku: Any, units: int, cap: int, priority: int) -> Any:
        starts = now - timedelta(seconds=1)
        return actions.create_sale(
            shop,
            operator,
            SaleInput(
                title=f"压测秒杀 {units}",
                reservation_starts_at=now - timedelta(days=1),
                priority_minutes=priority,
                sessions=[
                    SessionInput(
                        starts_at=starts,
                        ends_at=starts + timedelta(hours=1),
                        items=[
                            ItemInput(
                                sku_id=sku.pk, flash_price_fen=sku.price_fen // 2, quantity=units, per_person_cap=cap
                            )
                        ],
                    )
                ],
            ),
        )

    print(f"loading {RESERVERS:,} members and their reservations (set-based)", flush=True)
    members = _load_members()
    s4 = sale(phone, UNITS, 1, 30)
    reservations_seconds = _reserve_all(s4.pk, members["first_id"], members["last_id"])
    print(f"  members {members['seconds']:.1f} s, reservations {reservations_seconds:.1f} s", flush=True)
    started = time.perf_counter()
    actions.schedule_sale(shop, operator, s4.pk)  # configures the pool (1.9 M priority members) on commit
    configure_seconds = time.perf_counter() - started
    print(f"  publishing the sale configured the gate's pool in {configure_seconds:.1f} s", flush=True)
    steady_sale = sale(steady, STEADY_UNITS, 100, 0)
    actions.schedule_sale(shop, operator, steady_sale.pk)
    s4_item = actions._sale_items(s4)[0].pk
    steady_item = actions._sale_items(steady_sale)[0].pk
    first = members["first_id"]
    (work / "s4.txt").write_text("\n".join(tickets.sign(first + n, s4_item, 1).token for n in range(S4_TICKETS)) + "\n")
    (work / "steady.txt").write_text(
        "\n".join(tickets.sign(first + n, steady_item, 100).token for n in range(STEADY_TICKETS)) + "\n"
    )
    bearer = [f"Bearer {do_issue_token(make_member(), name='bench').token}" for _ in range(TOKENS)]
    (work / "tokens.txt").write_text("\n".join(bearer) + "\n")
    order = {"sku_id": shelf.pk, "quantity": 1, "fulfilment": "pickup", "pickup_point_id": point.pk}
    return {
        "s4_item": s4_item,
        "steady_item": steady_item,
        "order_body": json.dumps({**order, "payment_method": "sandbox"}),
        "members_seconds": members["seconds"],
        "reservations_seconds": reservations_seconds,
        "configure_seconds": configure_seconds,
    }


def _wrk(
    port: int, path: str, values: Path, header: str, body: str, seconds: float, connections: int, script: Path
) -> subprocess.Popen[str]:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:.0f}s", "--timeout", "10s", "-s", str(script)]
    command += [f"http://127.0.0.1:{port}", "--", str(values), header, path, body]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wrk_result(process: subprocess.Popen[str], timeout: float) -> dict[str, Any]:
    output, _ = process.communicate(timeout=timeout)
    found = re.search(r"WRK-JSON (\{.*\})", output)
    if found is None:
        raise RuntimeError(f"wrk said:\n{output}")
    result = json.loads(found[1])
    result["seconds"] = result["duration_us"] / 1e6
    result["per_second"] = result["requests"] / result["seconds"]
    result["p50_ms"], result["p99_ms"] = result["p50_us"] / 1000, result["p99_us"] / 1000
    return result


def _phase(
    name: str,
    server: subprocess.Popen[bytes],
    port: int,
    path: str,
    values: Path,
    header: str,
    body: str,
    args: Any,
    connections: int | None = None,
) -> dict[str, Any]:
    connections = connections or args.connections
    cpu = process_tree_cpu_seconds(server.pid)
    result = _wrk_result(
        _wrk(port, path, values, header, body, args.seconds, connections, args.script), args.seconds + 60
    )
    spent = process_tree_cpu_seconds(server.pid)
    if cpu is not None and spent is not None and result["requests"]:
        result["server_cpu_us"] = (spent - cpu) * 1e6 / result["requests"]
    result["name"] = name
    print(_line(result), flush=True)
    return result


def _line(result: dict[str, Any]) -> str:
    cpu = f"  server CPU {result['server_cpu_us']:.0f} µs/request" if "server_cpu_us" in result else ""
    return (
        f"{result['name']:<34} {result['per_second']:9,.0f}/s  p50 {result['p50_ms']:6.1f} ms  "
        f"p99 {result['p99_ms']:6.1f} ms  {result['statuses']}  socket errors {result['socket_errors']}{cpu}"
    )


def _sell_out(front: subprocess.Popen[bytes], port: int, built: dict[str, Any], args: Any) -> dict[str, Any]:
    """The S4 rush through the front: until the gate has no unit left (+2 s), at most 60 s."""
    from shequn.flashsales.models import pool_key
    from shequn.gate.engine import get_gate

    gate = get_gate()
    key = pool_key(built["s4_item"])
    path = f"/api/v1/flashsales/items/{built['s4_item']}/attempts"
    cpu = process_tree_cpu_seconds(front.pid)
    wrk = _wrk(
        port,
        path,
        args.work / "s4.txt",
        "X-Flash-Ticket",
        '{"quantity": 1}',
        SELL_OUT_LIMIT_SECONDS,
        args.connections,
        args.script,
    )
    first_admitted = sold_out = None
    deadline = time.monotonic() + SELL_OUT_LIMIT_SECONDS + 5
    while time.monotonic() < deadline and wrk.poll() is None:
        # One field, not gate.state(), which reads every holding (150,000 of them by the end).
        units = int(gate._client.hget(f"gate:{{{key}}}:pool", "units") or -1)  # type: ignore[attr-defined]
        now = time.monotonic()
        if first_admitted is None and units < UNITS:
            first_admitted = now
        if units == 0 and sold_out is None:
            sold_out = now
        if sold_out is not None and now - sold_out >= 2:
            wrk.send_signal(signal.SIGINT)
            break
        time.sleep(0.05)
    result = _wrk_result(wrk, 30)
    spent = process_tree_cpu_seconds(front.pid)
    if cpu is not None and spent is not None and result["requests"]:
        result["server_cpu_us"] = (spent - cpu) * 1e6 / result["requests"]
    result["name"] = "S4 rush, through the front"
    result["sell_out_seconds"] = (sold_out - first_admitted) if sold_out and first_admitted else None
    print(_line(result), flush=True)
    return result


def _check_gate(item_id: int) -> dict[str, Any]:
    """Oversold units: the gate's pool, the holdings and the claims stream must each say 150,000."""
    from shequn.flashsales.models import POOL_OWNER, pool_key
    from shequn.gate.engine import get_gate
    from shequn.gate.redis import stream_of

    gate = get_gate()
    state = gate.state(pool_key(item_id))
    stream = int(gate._client.xlen(stream_of(POOL_OWNER)))  # type: ignore[attr-defined]  # only S4's claims so far
    held = sum(state.held_by_member.values())
    return {
        "units_left": state.units_left,
        "admitted": state.admitted_units,
        "held": held,
        "members_holding": len(state.held_by_member),
        "stream": stream,
        "oversold": max(state.admitted_units, held, stream) - UNITS,
        "over_cap": sum(1 for units in state.held_by_member.values() if units > 1),
    }


def _materialise(s4_item: int) -> dict[str, Any]:
    """``materialise_claims`` in a child process, stopped after MATERIALISE_SECONDS."""
    from shequn.flashsales.models import FlashClaim
    from shequn.orders.models import Order

    before = Order.objects.count()
    code = (
        "import django; django.setup(); from shequn.flashsales.actions import materialise_claims; "
        "materialise_claims(count=500)"
    )
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=dict(os.environ))
    try:
        child.wait(timeout=MATERIALISE_SECONDS)
    except subprocess.TimeoutExpired:
        child.terminate()
        child.wait(timeout=30)
    seconds = time.perf_counter() - started
    ordered = Order.objects.count() - before
    written = FlashClaim.objects.filter(item_id=s4_item).count()
    result = {
        "seconds": seconds,
        "orders": ordered,
        "orders_per_second": ordered / seconds,
        "s4_claims_written": written,
        "s4_claims_left": UNITS - written,
    }
    print(
        f"materialise_claims: {ordered:,} orders in {seconds:.0f} s = {result['orders_per_second']:.0f}/s; "
        f"S4 claims written {written:,}, left {UNITS - written:,}",
        flush=True,
    )
    return result


def measure(args: argparse.Namespace) -> None:
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit(
            "bench/flash_sale.py runs on PostgreSQL: scripts/with-postgres .venv/bin/python bench/flash_sale.py run"
        )
    if shutil.which("wrk") is None:
        raise SystemExit("needs Debian's wrk (make bench installs it)")
    redis, redis_url = start_redis()
    servers: list[subprocess.Popen[bytes]] = []
    work = Path(tempfile.mkdtemp(prefix="shequn-flash-"))
    args.work, args.script = work, work / "attempt.lua"
    args.script.write_text(WRK_SCRIPT)
    try:
        _environment(redis_url)
        _setup_django()
        built = _build(work)
        front_port, django_port = free_port(), free_port()
        front = start_server(dict(os.environ), front_port, args.workers, args.threads, server="front")
        servers.append(front)
        django = start_server(dict(os.environ), django_port, args.workers, args.threads, server="wsgi")
        servers.append(django)
        print(f"S4: {UNITS:,} units, attempts through the front with {S4_TICKETS:,} reservers' tickets", flush=True)
        rush = _sell_out(front, front_port, built, args)
        checked = _check_gate(built["s4_item"])
        print(f"gate after the rush: {checked}", flush=True)
        attempt_path = f"/api/v1/flashsales/items/{built['steady_item']}/attempts"
        one = '{"quantity": 1}'
        steady = work / "steady.txt"
        tokens = work / "tokens.txt"
        side = [
            _phase(
                "attempt through the front (ASGI)", front, front_port, attempt_path, steady, "X-Flash-Ticket", one, args
            ),
            # Closed-loop clients: twice the connections queue twice as many attempts (throughput
            # against latency on a saturated machine).
            _phase(
                f"the same, {2 * args.connections} connections",
                front,
                front_port,
                attempt_path,
                steady,
                "X-Flash-Ticket",
                one,
                args,
                2 * args.connections,
            ),
            _phase(
                "attempt, Django endpoint (WSGI)",
                django,
                django_port,
                attempt_path,
                steady,
                "X-Flash-Ticket",
                one,
                args,
            ),
            _phase(
                "checkout POST /api/v1/orders",
                django,
                django_port,
                "/api/v1/orders",
                tokens,
                "Authorization",
                built["order_body"],
                args,
            ),
            _phase(
                "naive ORM order (reference)",
                django,
                django_port,
                "/bench/naive-order/",
                tokens,
                "Authorization",
                built["order_body"],
                args,
            ),
        ]
        for result in side[3:]:
            admitted = result["statuses"].get("201", 0) + result["statuses"].get("200", 0)
            result["orders_per_second"] = admitted / result["seconds"]
            result["projected_sell_out_seconds"] = UNITS / result["orders_per_second"] if admitted else None
        materialised = _materialise(built["s4_item"])
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(
            json.dumps(
                {
                    "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                    "machine": (
                        f"{os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f} at the end), "
                        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
                    ),
                    "args": {
                        "workers": args.workers,
                        "threads": args.threads,
                        "connections": args.connections,
                        "seconds": args.seconds,
                    },
                    "setup": {k: v for k, v in built.items() if k.endswith("_seconds")},
                    "rush": rush,
                    "gate": checked,
                    "side_by_side": side,
                    "materialise": materialised,
                },
                indent=2,
            )
        )
        print(f"wrote {RESULTS.relative_to(ROOT)}")
    finally:
        for server in servers:
            stop_server(server)
        redis.terminate()
        redis.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


def report() -> None:
    if not RESULTS.exists():
        raise SystemExit("no results in var/bench: run `make bench` first")
    run = json.loads(RESULTS.read_text())
    rush, gate, side, made, setup = run["rush"], run["gate"], run["side_by_side"], run["materialise"], run["setup"]
    sell_out = rush["sell_out_seconds"]

    def verdict(value: float | None, target: float, higher_is_better: bool) -> str:
        if value is None:
            return "not reached"
        met = value >= target if higher_is_better else value <= target
        return "met" if met else f"missed by {abs(value - target) / target:.0%}"

    admitted_per_second = UNITS / sell_out if sell_out else None
    lines = [
        "<!-- bench:flash_sale:start (generated by bench/flash_sale.py report) -->",
        "",
        f"PostgreSQL + Redis, {run['when']}; {run['machine']}; granian {run['args']['workers']} workers "
        f"({run['args']['threads']} Django threads each); wrk 1 thread × {run['args']['connections']} connections "
        "on the same 2 cores.",
        "",
        f"Set-up: {RESERVERS:,} members {setup['members_seconds']:.1f} s and their reservations "
        f"{setup['reservations_seconds']:.1f} s (INSERT … SELECT); publishing the sale configured the gate's pool "
        f"with the {RESERVERS:,} reservers in **{setup['configure_seconds']:.1f} s**.",
        "",
        "| S4: 150,000 units, reservers only, through the thin front | figure | target |",
        "|---|---:|---|",
        f"| attempts/s (until sold out + 2 s) | {rush['per_second']:,.0f} | ≥ {TARGET_ATTEMPTS:,}: "
        f"{verdict(rush['per_second'], TARGET_ATTEMPTS, True)} |",
        f"| p50 / p99 | {rush['p50_ms']:.1f} / {rush['p99_ms']:.1f} ms | p99 ≤ {TARGET_P99_MS:.0f} ms: "
        f"{verdict(rush['p99_ms'], TARGET_P99_MS, False)} |",
        "| sell-out time (first admission → no unit left) | "
        + (f"{sell_out:.1f} s" if sell_out else "not sold out within 60 s")
        + f" | < {TARGET_SELL_OUT_S:.0f} s: {verdict(sell_out, TARGET_SELL_OUT_S, False)} |",
        f"| admitted/s | {admitted_per_second:,.0f} | |" if admitted_per_second else "| admitted/s | – | |",
        f"| answers | {rush['statuses']}, socket errors {rush['socket_errors']} | no 5xx |",
        f"| oversold units (gate units, holdings, claims stream) | {gate['oversold']} "
        f"({gate['admitted']:,} admitted, {gate['held']:,} held by {gate['members_holding']:,} members, "
        f"{gate['stream']:,} claims; {gate['over_cap']} over the cap) | 0 |",
        f"| orders materialised/s (`materialise_claims`, {made['seconds']:.0f} s) | {made['orders_per_second']:,.0f} "
        f"({made['s4_claims_left']:,} S4 claims left) | ≥ {TARGET_ORDERS:,}: "
        f"{verdict(made['orders_per_second'], TARGET_ORDERS, True)} |",
        f"| server CPU per attempt | {rush.get('server_cpu_us', 0):.0f} µs | |",
        "",
        f"Side by side, {run['args']['seconds']:.0f} s each, same run:",
        "",
        "| endpoint | requests/s | p50 ms | p99 ms | answers | server CPU µs/request | sells 150,000 in |",
        "|---|---:|---:|---:|---|---:|---:|",
    ]
    for result in side:
        projected = result.get("projected_sell_out_seconds")
        if "projected_sell_out_seconds" in result:
            sells = f"{projected:,.0f} s" if projected else "–"
        else:
            sells = f"{UNITS / result['per_second']:,.0f} s (attempts)"
        lines.append(
            f"| {result['name']} | {result['per_second']:,.0f} | {result['p50_ms']:.1f} | {result['p99_ms']:.1f} | "
            f"{result['statuses']} | {result.get('server_cpu_us', 0):,.0f} | {sells} |"
        )
    lines += ["", "<!-- bench:flash_sale:end -->"]
    write_section("flash_sale", "\n".join(lines), intro=INTRO)


INTRO = """## Flash sale (S4 scaled): `bench/flash_sale.py`

1.9 million reservers, 150,000 units, attempts over HTTP on 127.0.0.1 through the thin front
(docs/adr/0010-gate-front.md), then the claims materialised into orders; side by side the same
attempt through the Django endpoint and today's checkout and naive order endpoints. The machine
is shared: the load average in the first line is part of the result; every run so far, the
targets and what limits them (CPU per attempt) are in docs/adr/0010-gate-front.md."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="measure on DATABASE_URL (PostgreSQL)")
    run.add_argument("--seconds", type=float, default=float(os.environ.get("BENCH_FLASH_SECONDS", "10")))
    run.add_argument("--connections", type=int, default=int(os.environ.get("BENCH_FLASH_CONNECTIONS", "32")))
    run.add_argument("--workers", type=int, default=2)
    run.add_argument("--threads", type=int, default=2, help="Django threads per worker (WSGI, and a2wsgi in the front)")
    commands.add_parser("report", help="write docs/benchmarks.md from the last run")
    args = parser.parse_args()
    os.chdir(ROOT)
    if args.command == "run":
        measure(args)
    else:
        report()


if __name__ == "__main__":
    main()
