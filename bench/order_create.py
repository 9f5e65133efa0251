"""Order-creation throughput over HTTP: the real endpoint against a naive reference.

    .venv/bin/python bench/order_create.py run [--clients 16] [--seconds 10]   # on DATABASE_URL or SQLite
    .venv/bin/python bench/order_create.py report                              # results -> docs/benchmarks.md

`make bench` runs it on SQLite, then on PostgreSQL through scripts/with-postgres, then writes
the report. Each run:

1. migrates a fresh database (a temporary SHEQUN_VAR_DIR for SQLite; the throwaway cluster for
   PostgreSQL) and creates a shop, one SKU with plenty of stock, a pickup point and one member
   with an API token per client;
2. starts granian with SHEQUN_BENCH_ENDPOINTS=1, which also routes the naive endpoint
   (shequn/demo/bench_views.py: select_for_update, read the stock, subtract in Python, save()),
   twice: plain WSGI, then through the thin front as `make run` serves it (ASGI, shequn.front,
   Django in a2wsgi's threads), to show the rest of the site pays nothing for the front;
3. for each endpoint, N client threads (in separate processes, so the load generator is not
   one GIL) POST orders over keep-alive connections for a fixed time, then it checks that the
   stock went down by exactly the units sold;
4. prints orders/s, p50 and p99 latency, errors, the server's CPU time per order (granian and
   its worker processes, from /proc: unlike orders/s it hardly moves when other work shares
   the machine), and the real/naive throughput ratio.

Traffic goes to 127.0.0.1 only, and every loop is bounded in time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from docsection import write_section  # bench/ is not a package

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "var" / "bench"
REAL_PATH = "/api/v1/orders"
NAIVE_PATH = "/bench/naive-order/"
STOCK = 10_000_000


@dataclass
class Fixture:
    sku_id: int
    pickup_point_id: int
    tokens: list[str]


@dataclass
class Result:
    database: str
    endpoint: str
    server: str  # "wsgi": granian WSGI; "front": granian ASGI, the thin front before Django
    clients: int
    seconds: float
    orders: int
    errors: int
    orders_per_second: float
    p50_ms: float
    p99_ms: float
    stock_consistent: bool
    server_cpu_ms_per_order: float | None = None
    error_sample: str = ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(var_dir: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "shequn.settings",
            "SHEQUN_VAR_DIR": var_dir,
            "SHEQUN_BENCH_ENDPOINTS": "1",
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def prepare(env: dict[str, str], clients: int) -> Fixture:
    """Migrate and create the shop, SKU, pickup point and members (in a child Python: fresh settings)."""
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    code = f"""
import json
import django
django.setup()
from shequn.accounts.actions import do_issue_token
from shequn.accounts.models import User
from shequn.catalog.models import Product, Sku
from shequn.shops.models import PickupPoint, Shop
shop = Shop.objects.create(name="压测店", slug="bench")
product = Product.objects.create(shop=shop, title="压测三文鱼", on_shelf=True, returnable=False)
sku = Sku.objects.create(shop=shop, product=product, spec="1斤", price_fen=3500, stock={STOCK})
point = PickupPoint.objects.create(shop=shop, name="压测自提点", address="杭州市滨江区")
tokens = []
for index in range({clients}):
    user = User.objects.create_user(username=f"bench{{index}}", phone=f"1370000{{index:04d}}")
    tokens.append(do_issue_token(user, name="bench").token)
print(json.dumps({{"sku_id": sku.pk, "pickup_point_id": point.pk, "tokens": tokens}}))
"""
    output = subprocess.run([python, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return Fixture(**json.loads(output.stdout.strip().splitlines()[-1]))


def read_stock(env: dict[str, str], sku_id: int) -> int:
    code = (
        "import django; django.setup(); from shequn.catalog.models import Sku; "
        f"print(Sku.objects.get(pk={sku_id}).stock)"
    )
    output = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return int(output.stdout.strip().splitlines()[-1])


SERVERS = {"wsgi": ("wsgi", "shequn.wsgi:application"), "front": ("asgi", "shequn.front:application")}


def start_server(
    env: dict[str, str], port: int, workers: int, threads: int, server: str = "wsgi"
) -> subprocess.Popen[bytes]:
    granian = str(Path(sys.executable).parent / "granian")
    interface, target = SERVERS[server]
    command = [granian, "--interface", interface, target, "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers), "--no-access-log"]
    if interface == "wsgi":
        command += ["--blocking-threads", str(threads)]
    env = {**env, "WEB_THREADS": str(threads)}  # the front's Django threads (a2wsgi)
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180  # a loaded shared machine: Django's start-up took over a minute
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"granian exited: {process.stderr.read().decode() if process.stderr else ''}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/api/v1/openapi.json")
            connection.getresponse().read()
            connection.close()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("granian did not answer within 180 s")


def process_tree_cpu_seconds(root_pid: int) -> float | None:
    """User + system CPU time of ``root_pid`` and its descendants (Linux /proc; None elsewhere)."""
    proc = Path("/proc")
    if not (proc / str(root_pid) / "stat").exists():
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}  # pid -> (parent pid, cpu seconds)
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # Fields after the ")" that closes the command name: state ppid ... utime(12) stime(13).
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks)
    tree, total = {root_pid}, 0.0
    changed = True
    while changed:
        changed = False
        for pid, (parent, _) in stats.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                changed = True
    for pid in tree:
        total += stats.get(pid, (0, 0.0))[1]
    return total


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def body_for(path: str, fixture: Fixture) -> bytes:
    order = {
        "sku_id": fixture.sku_id,
        "quantity": 1,
        "fulfilment": "pickup",
        "pickup_point_id": fixture.pickup_point_id,
        "payment_method": "sandbox",
    }
    return json.dumps(order).encode()


def client_worker(
    port: int, path: str, body: bytes, tokens: list[str], start_at: float, stop_at: float, queue: multiprocessing.Queue
) -> None:
    """One load process: a thread per token, each posting orders back to back until stop_at."""
    import threading

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def loop(token: str) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        own: list[float] = []
        own_errors: list[str] = []
        while time.time() < start_at:
            time.sleep(0.001)
        while time.time() < stop_at:
            headers = {
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "Idempotency-Key": uuid.uuid4().hex,
            }
            started = time.perf_counter()
            try:
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException) as error:
                own_errors.append(f"{type(error).__name__}: {error}")
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            elapsed = time.perf_counter() - started
            if response.status in (200, 201):
                own.append(elapsed)
            else:
                own_errors.append(f"{response.status}: {payload[:200].decode(errors='replace')}")
        connection.close()
        with lock:
            latencies.extend(own)
            errors.extend(own_errors)

    threads = [threading.Thread(target=loop, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put((latencies, errors))


def run_load(port: int, path: str, fixture: Fixture, seconds: float, processes: int) -> tuple[list[float], list[str]]:
    context = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue = context.Queue()
    start_at = time.time() + 2.0  # every process is up before the clock starts
    stop_at = start_at + seconds
    body = body_for(path, fixture)
    shares = [fixture.tokens[index::processes] for index in range(processes)]
    workers = [
        context.Process(target=client_worker, args=(port, path, body, share, start_at, stop_at, queue))
        for share in shares
        if share
    ]
    for worker in workers:
        worker.start()
    latencies: list[float] = []
    errors: list[str] = []
    for _ in workers:
        got_latencies, got_errors = queue.get(timeout=seconds + 120)
        latencies.extend(got_latencies)
        errors.extend(got_errors)
    for worker in workers:
        worker.join(timeout=30)
    return latencies, errors


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def start_redis() -> tuple[subprocess.Popen[bytes], str]:
    """A throwaway redis-server (no persistence) on a free loopback port."""
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        raise SystemExit("--redis needs Debian's redis-server (apt-get install redis-server)")
    port = free_port()
    process = subprocess.Popen(
        [redis_server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return process, f"redis://127.0.0.1:{port}/0"
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("redis-server did not start")


def measure(args: argparse.Namespace) -> list[Result]:
    database_url = os.environ.get("DATABASE_URL", "")
    database = "postgresql" if database_url.startswith(("postgres://", "postgresql://")) else "sqlite"
    # The scale-out configuration is PostgreSQL with Redis (cache and Huey): with SqliteHuey,
    # every order's scheduled close would queue on one SQLite file and measure that instead.
    use_redis = args.redis if args.redis is not None else database == "postgresql"
    var_dir = tempfile.mkdtemp(prefix="shequn-bench-")
    results: list[Result] = []
    redis = None
    try:
        env = server_env(var_dir)
        env.pop("REDIS_URL", None)
        if use_redis:
            redis, env["REDIS_URL"] = start_redis()
        print(f"[{database}] preparing: migrate, shop, SKU, {args.clients} members with tokens", flush=True)
        fixture = prepare(env, args.clients)
        for server_name in args.servers:
            results += measure_server(args, env, fixture, database, use_redis, server_name)
    finally:
        if redis is not None:
            redis.terminate()
            redis.wait(timeout=10)
        shutil.rmtree(var_dir, ignore_errors=True)
    for server_name in args.servers:
        real = next(r for r in results if r.endpoint == "real" and r.server == server_name)
        naive = next(r for r in results if r.endpoint == "naive" and r.server == server_name)
        if naive.orders_per_second:
            ratio = real.orders_per_second / naive.orders_per_second
            print(f"[{database}] {server_name}: real / naive throughput: {ratio:.2f}x")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"order_create-{database}.json").write_text(
        json.dumps(
            {
                "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                "args": vars(args),
                "machine": machine(),
                "results": [asdict(r) for r in results],
            },
            indent=2,
        )
    )
    return results


def measure_server(
    args: argparse.Namespace, env: dict[str, str], fixture: Fixture, database: str, use_redis: bool, server_name: str
) -> list[Result]:
    results: list[Result] = []
    port = free_port()
    server = start_server(env, port, args.workers, args.threads, server_name)
    try:
        for endpoint, path in (("real", REAL_PATH), ("naive", NAIVE_PATH)):
            before = read_stock(env, fixture.sku_id)
            print(
                f"[{database}] {server_name} {endpoint} {path}: {args.clients} clients for {args.seconds:.0f} s",
                flush=True,
            )
            cpu_before = process_tree_cpu_seconds(server.pid)
            latencies, errors = run_load(port, path, fixture, args.seconds, args.processes)
            cpu_after = process_tree_cpu_seconds(server.pid)
            sold = before - read_stock(env, fixture.sku_id)
            server_cpu = (
                (cpu_after - cpu_before) * 1000 / len(latencies)
                if cpu_before is not None and cpu_after is not None and latencies
                else None
            )
            result = Result(
                database=database + (" + redis" if use_redis else ""),
                endpoint=endpoint,
                server=server_name,
                clients=args.clients,
                seconds=args.seconds,
                orders=len(latencies),
                errors=len(errors),
                orders_per_second=len(latencies) / args.seconds,
                p50_ms=percentile(latencies, 0.50) * 1000,
                p99_ms=percentile(latencies, 0.99) * 1000,
                # Every 2xx is one unit sold; on SQLite the naive endpoint may lose updates.
                stock_consistent=sold == len(latencies),
                server_cpu_ms_per_order=server_cpu,
                error_sample=errors[0] if errors else "",
            )
            results.append(result)
            print(format_result(result), flush=True)
    finally:
        stop_server(server)
    return results


def machine() -> str:
    load = os.getloadavg()[0]
    return (
        f"{os.cpu_count()} cores (load average {load:.1f} at the end), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def format_result(result: Result) -> str:
    return (
        f"[{result.database}] {result.server:5s} {result.endpoint:5s} {result.orders_per_second:8.1f} orders/s  "
        f"p50 {result.p50_ms:7.1f} ms  p99 {result.p99_ms:7.1f} ms  "
        f"orders {result.orders}  errors {result.errors}  stock consistent: {result.stock_consistent}  "
        f"server CPU {_cpu(result.server_cpu_ms_per_order)} ms/order"
        + (f"\n    first error: {result.error_sample}" if result.error_sample else "")
    )


def _cpu(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def report() -> None:
    """Rewrites the generated section of docs/benchmarks.md from var/bench/*.json."""
    runs = [json.loads(path.read_text()) for path in sorted(RESULTS_DIR.glob("order_create-*.json"))]
    if not runs:
        print("no results in var/bench: run `make bench` first", file=sys.stderr)
        sys.exit(1)
    lines = ["<!-- bench:order_create:start (generated by bench/order_create.py report) -->", ""]
    lines.append(
        "| database | server | endpoint | clients | orders/s | p50 ms | p99 ms | errors | stock consistent "
        "| server CPU ms/order |"
    )
    lines.append("|---|---|---|---:|---:|---:|---:|---:|---|---:|")
    ratios = []
    for run in runs:
        by_key = {(r.get("server", "wsgi"), r["endpoint"]): r for r in run["results"]}
        for r in run["results"]:
            lines.append(
                f"| {r['database']} | {r.get('server', 'wsgi')} | {r['endpoint']} | {r['clients']} | "
                f"{r['orders_per_second']:.1f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['errors']} | "
                f"{'yes' if r['stock_consistent'] else 'NO'} | {_cpu(r.get('server_cpu_ms_per_order'))} |"
            )
        figures = []
        for server in dict.fromkeys(server for server, _ in by_key):
            if by_key.get((server, "naive"), {}).get("orders_per_second"):
                ratio = by_key[(server, "real")]["orders_per_second"] / by_key[(server, "naive")]["orders_per_second"]
                figures.append(f"{server}: real / naive = **{ratio:.2f}x**")
        if by_key.get(("wsgi", "real"), {}).get("orders_per_second") and ("front", "real") in by_key:
            ratio = by_key[("front", "real")]["orders_per_second"] / by_key[("wsgi", "real")]["orders_per_second"]
            figures.append(f"real endpoint through the front / plain WSGI = **{ratio:.2f}x**")
        ratios.append(
            f"- {run['results'][0]['database']}: {'; '.join(figures)} ({run['when']}; "
            f"{run['machine']}; granian {run['args']['workers']} worker(s) × "
            f"{run['args']['threads']} threads; {run['args']['seconds']:.0f} s per endpoint)"
        )
    lines += ["", *ratios, "", "<!-- bench:order_create:end -->"]
    write_section("order_create", "\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="measure on DATABASE_URL (or a temporary SQLite database)")
    run.add_argument("--clients", type=int, default=int(os.environ.get("BENCH_CLIENTS", "16")))
    run.add_argument("--seconds", type=float, default=float(os.environ.get("BENCH_SECONDS", "10")))
    run.add_argument("--processes", type=int, default=2, help="load-generator processes")
    run.add_argument("--workers", type=int, default=int(os.environ.get("BENCH_WORKERS", "1")))
    run.add_argument("--threads", type=int, default=int(os.environ.get("BENCH_THREADS", "8")))
    run.add_argument(
        "--servers",
        nargs="+",
        choices=list(SERVERS),
        default=list(SERVERS),
        help="plain granian WSGI and/or the thin front (granian ASGI) before Django",
    )
    run.add_argument(
        "--redis",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="run a throwaway redis-server for cache and Huey (default: with PostgreSQL only)",
    )
    commands.add_parser("report", help="write docs/benchmarks.md from the last runs")
    args = parser.parse_args()
    os.chdir(ROOT)
    if args.command == "run":
        measure(args)
    else:
        report()


if __name__ == "__main__":
    main()
