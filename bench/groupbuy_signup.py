"""Group-buy sign-up burst over HTTP: thousands of members signing up for one campaign at once.

    .venv/bin/python bench/groupbuy_signup.py run [--members 3000] [--direct-members 500]   # SQLite (+ Redis)
    scripts/with-postgres .venv/bin/python bench/groupbuy_signup.py run                     # PostgreSQL + Redis
    .venv/bin/python bench/groupbuy_signup.py report                                        # -> docs/benchmarks.md

`make bench` runs it on SQLite, then on PostgreSQL through scripts/with-postgres, then writes the
report (see scripts/bench). Each run:

1. migrates a fresh database (a temporary SHEQUN_VAR_DIR for SQLite; the throwaway cluster for
   PostgreSQL), starts a throwaway Redis (the gate and the cache: dedicated consumers run in
   their own processes, so the gate must be shared; the embedded default without Redis writes
   through members' polls instead, not measured here) and creates a shop, a SKU, a community with a leader and
   a pickup point, and N members of the community, each with an API token;
2. starts the thin front (granian ASGI, `shequn.front:application`, as `make run`);
3. per round, opens a new campaign (stock limit = the burst's members) for each path:
   - "direct" (the reference, /bench/direct-sign-up/{id}/, bearer token): the request waits for
     its sign-up and order (`groupbuy.actions.sign_up`), for `--direct-members` members;
   - "gate": every member's gate ticket is issued (`groupbuy.actions.issue_ticket`, as the
     campaign page does), `--consumers` dedicated consumer processes start
     (`groupbuy.actions.run_consumer`), and N members send `POST
     /api/v1/groupbuy/campaigns/{id}/sign-ups` with `X-Jielong-Ticket`: the front answers 202 at
     once; the consumers write the sign-ups behind;
   the load: `--processes` load processes × `--connections` keep-alive connections each, every
   member's one request sent as soon as a connection is free (so the rate is the server's, not
   the clients' connection set-up);
4. checks the books: the campaign's sold counter equals the sign-ups answered and written, every
   gate ticket's claim became a sign-up; prints answered/s (first request sent to last answer),
   written/s (first request sent to the last sign-up written, from the claims' `created_at`),
   p50/p99 latency, errors, and the gate/direct ratios.

Traffic goes to 127.0.0.1 only, and every loop is bounded in time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from docsection import write_section  # bench/ is not a package
from order_create import (
    free_port,
    machine,
    percentile,
    process_tree_cpu_seconds,
    server_env,
    start_redis,
    start_server,
    stop_server,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "var" / "bench"


@dataclass
class Result:
    database: str
    path: str  # "direct": the request waits for its order; "gate": answered at once, written behind
    members: int
    rounds: int
    sign_ups: int
    errors: int
    sign_ups_per_second: float
    p50_ms: float
    p99_ms: float
    counters_consistent: bool
    error_sample: str = ""
    # Gate only: sign-ups written by the consumer per second, from the burst's first request to
    # the last ticket resolved (members polling their tickets drive the consumer, as the page does).
    materialised_per_second: float = 0.0
    # The server's (granian's process tree: the front and Django's threads) CPU per answered
    # sign-up over the burst; the consumers and the load generator are other processes.
    server_cpu_ms: float = 0.0


def python_in(env: dict[str, str], code: str) -> str:
    output = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return output.stdout.strip().splitlines()[-1]


def prepare(env: dict[str, str], members: int) -> list[str]:
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    code = f"""
import json
import django
django.setup()
from shequn.accounts.actions import do_issue_token
from shequn.accounts.models import User
from shequn.catalog.models import Product, Sku
from shequn.communities.models import Community, CommunityMembership
from shequn.leaders.models import Leader
from shequn.shops.models import PickupPoint, Shop
shop = Shop.objects.create(name="压测店", slug="bench-groupbuy")
product = Product.objects.create(shop=shop, title="压测三文鱼", on_shelf=True, returnable=False)
Sku.objects.create(shop=shop, product=product, spec="500g", price_fen=6900, stock=10_000_000)
community = Community.objects.create(shop=shop, name="压测社群")
point = PickupPoint.objects.create(shop=shop, name="压测自提点", address="杭州市滨江区")
boss = User.objects.create_user(username="bench-leader")
Leader.objects.create(shop=shop, user=boss, community=community, status="active", pickup_point=point,
                      point_name=point.name, point_address=point.address, contact_phone="13900000000")
users = User.objects.bulk_create([User(username=f"gb{{n}}", nickname=f"邻居{{n}}") for n in range({members})])
CommunityMembership.objects.bulk_create([CommunityMembership(community=community, user=u) for u in users])
print(json.dumps([do_issue_token(u, name="bench").token for u in users]))
"""
    return list(json.loads(python_in(env, code)))


def open_campaign(env: dict[str, str], stock: int, round_number: int, tickets_for: int) -> tuple[int, int, list[str]]:
    """A published campaign of ``stock`` units, and the gate tickets of its first ``tickets_for``
    members (issued as the campaign page issues them)."""
    code = f"""
import json
from datetime import timedelta
import django
django.setup()
from django.utils import timezone
from shequn.accounts.models import User
from shequn.catalog.models import Sku
from shequn.groupbuy import actions
from shequn.leaders.models import Leader
leader = Leader.objects.get(user__username="bench-leader")
sku = Sku.objects.get(shop=leader.shop)
now = timezone.now()
data = actions.CampaignInput(
    title="压测接龙 {round_number}", starts_at=now - timedelta(minutes=1), deadline=now + timedelta(hours=6),
    pickup_date=(timezone.localtime(now) + timedelta(days=1)).date(),
    items=[actions.ItemInput(sku_id=sku.pk, price_fen=5900, stock_limit={stock})],
)
campaign = actions.do_create_leader_campaign(leader, data)
members = User.objects.filter(username__startswith="gb").order_by("pk")[:{tickets_for}]
tickets = [actions.issue_ticket(member, campaign.pk).token for member in members]
print(json.dumps([campaign.pk, campaign.items.get().pk, tickets]))
"""
    campaign_id, item_id, tickets = json.loads(python_in(env, code))
    return int(campaign_id), int(item_id), list(tickets)


def written(env: dict[str, str], item_id: int, tickets: list[str], expected: int, timeout: float) -> dict:
    """Waits (bounded) until the consumers wrote ``expected`` claims of the item; then the books:
    ``sold``, the sign-ups, the gate tickets' claims that became sign-ups, and when the last claim
    was written (epoch seconds)."""
    path = Path(tempfile.mkstemp(prefix="shequn-bench-tickets-", suffix=".json")[1])
    path.write_text(json.dumps(tickets))
    code = f"""
import json, time
import django
django.setup()
from django.db.models import Max
from shequn.groupbuy.models import CampaignItem, SignUp, SignUpClaim
claims = SignUpClaim.objects.filter(item_id={item_id})
give_up = time.monotonic() + {timeout}
while claims.count() < {expected} and time.monotonic() < give_up:
    time.sleep(0.2)
tickets = json.loads(open({str(path)!r}).read())
last = claims.aggregate(last=Max("created_at"))["last"]
item = CampaignItem.objects.get(pk={item_id})
print(json.dumps({{
    "sold": item.sold,
    "sign_ups": SignUp.objects.filter(campaign_id=item.campaign_id).count(),
    "tickets_signed_up": claims.filter(claim_id__in=tickets, sign_up__isnull=False).count() if tickets else 0,
    "last_written": last.timestamp() if last else 0.0,
}}))
"""
    try:
        return dict(json.loads(python_in(env, code)))
    finally:
        path.unlink()


def client_worker(
    port: int,
    path: str,
    body: bytes,
    headers: list[dict[str, str]],
    connections: int,
    start_at: float,
    queue: multiprocessing.Queue,
) -> None:
    """One load process: ``connections`` keep-alive connections, each sending its share of the
    members' requests (one per member) one after the other from ``start_at``."""
    import threading

    results: list[tuple[float, float, int, str]] = []  # (sent, answered, status, body or error)
    lock = threading.Lock()

    def one_connection(share: list[dict[str, str]]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        mine = []
        while time.time() < start_at:
            time.sleep(0.001)
        for member_headers in share:
            sent = time.time()
            try:
                connection.request("POST", path, body=body, headers=member_headers)
                response = connection.getresponse()
                payload = response.read()
                mine.append((sent, time.time(), response.status, payload[:300].decode()))
            except (OSError, http.client.HTTPException) as error:
                mine.append((sent, time.time(), 0, f"{type(error).__name__}: {error}"))
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        connection.close()
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=one_connection, args=(headers[n::connections],)) for n in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    queue.put(results)


def burst(port: int, path: str, item_id: int, headers: list[dict[str, str]], args: argparse.Namespace) -> list[tuple]:
    context = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue = context.Queue()
    body = json.dumps({"quantities": [{"item_id": item_id, "quantity": 1}]}).encode()
    start_at = time.time() + 3.0  # every process and connection is up before the burst
    shares = [headers[index :: args.processes] for index in range(args.processes)]
    workers = [
        context.Process(target=client_worker, args=(port, path, body, share, args.connections, start_at, queue))
        for share in shares
        if share
    ]
    for worker in workers:
        worker.start()
    results: list[tuple] = []
    for _ in workers:
        results.extend(queue.get(timeout=400))
    for worker in workers:
        worker.join(timeout=30)
    return results


def start_consumers(env: dict[str, str], count: int, seconds: float) -> list[subprocess.Popen[bytes]]:
    """Dedicated consumer processes, each ``run_consumer`` under its own name for ``seconds``."""
    consumers = []
    for number in range(count):
        code = (
            "import django; django.setup(); from shequn.groupbuy.actions import run_consumer; "
            f"run_consumer({seconds}, count=500, consumer='bench-{number}')"
        )
        consumers.append(subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env))
    return consumers


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=30)


def measure(args: argparse.Namespace) -> list[Result]:
    database_url = os.environ.get("DATABASE_URL", "")
    database = "postgresql" if database_url.startswith(("postgres://", "postgresql://")) else "sqlite"
    var_dir = tempfile.mkdtemp(prefix="shequn-bench-gb-")
    redis = None
    runs: dict[str, dict] = {
        name: {
            "latencies": [],
            "errors": [],
            "wall": 0.0,
            "written_wall": 0.0,
            "written": 0,
            "consistent": True,
            "cpu": 0.0,
        }
        for name in ("direct", "gate")
    }
    sizes = {"direct": min(args.direct_members, args.members), "gate": args.members}
    try:
        env = server_env(var_dir)
        # Every member comes from 127.0.0.1 here, standing for thousands of phones: the gate's
        # per-address limit (200 a second) would refuse the burst; the per-member one stays.
        env["SHEQUN_GATE_RATE_LIMITS"] = "10,100000000,1000"
        env.pop("REDIS_URL", None)
        redis, env["REDIS_URL"] = start_redis()
        print(f"[{database}] preparing: migrate, shop, leader, {args.members} members with tokens", flush=True)
        tokens = prepare(env, args.members)
        port = free_port()
        server = start_server(env, port, args.workers, args.threads, server="front")
        try:
            for round_number in range(1, args.rounds + 1):
                for name in ("direct", "gate"):
                    members = sizes[name]
                    # The consumers start first: their start-up is not part of the burst.
                    consumers = start_consumers(env, args.consumers, 300) if name == "gate" else []
                    campaign_id, item_id, tickets = open_campaign(
                        env, members, round_number, members if name == "gate" else 0
                    )
                    if name == "direct":
                        path = f"/bench/direct-sign-up/{campaign_id}/"
                        headers = [{"Authorization": f"Bearer {token}"} for token in tokens[:members]]
                    else:
                        path = f"/api/v1/groupbuy/campaigns/{campaign_id}/sign-ups"
                        headers = [{"X-Jielong-Ticket": ticket} for ticket in tickets]
                    headers = [{**h, "Content-Type": "application/json"} for h in headers]
                    try:
                        expected = 201 if name == "direct" else 202
                        cpu_before = process_tree_cpu_seconds(server.pid) or 0.0
                        answers = burst(port, path, item_id, headers, args)
                        cpu = (process_tree_cpu_seconds(server.pid) or 0.0) - cpu_before
                        ok = [r for r in answers if r[2] == expected]
                        answered = [json.loads(r[3]).get("ticket", "") for r in ok] if name == "gate" else []
                        books = written(env, item_id, answered, len(ok), timeout=240)
                    finally:
                        stop(consumers)
                    stats = runs[name]
                    stats["latencies"] += [r[1] - r[0] for r in ok]
                    stats["errors"] += [f"{r[2]}: {r[3][:200]}" for r in answers if r[2] != expected]
                    first, last = min(r[0] for r in answers), max(r[1] for r in answers)
                    stats["wall"] += last - first
                    stats["cpu"] += cpu
                    stats["written"] += books["sign_ups"]
                    stats["written_wall"] += max(books["last_written"], last) - first
                    consistent = books["sold"] == books["sign_ups"] == len(ok)
                    if name == "gate":
                        consistent &= books["tickets_signed_up"] == len(ok)
                    stats["consistent"] &= consistent
                    print(
                        f"[{database}] round {round_number} {name}: {len(ok)}/{len(answers)} answered {expected} "
                        f"in {last - first:.2f} s; written {books['sign_ups']} by "
                        f"{max(books['last_written'], last) - first:.2f} s, sold {books['sold']}"
                        + (f", tickets signed up {books['tickets_signed_up']}" if name == "gate" else ""),
                        flush=True,
                    )
        finally:
            stop_server(server)
    finally:
        if redis is not None:
            redis.terminate()
            redis.wait(timeout=10)
        shutil.rmtree(var_dir, ignore_errors=True)
    results = []
    for name, stats in runs.items():
        latencies, errors, wall = stats["latencies"], stats["errors"], stats["wall"]
        result = Result(
            database=database + " + redis",
            path=name,
            members=sizes[name],
            rounds=args.rounds,
            sign_ups=len(latencies),
            errors=len(errors),
            sign_ups_per_second=len(latencies) / wall if wall else 0.0,
            p50_ms=percentile(latencies, 0.50) * 1000,
            p99_ms=percentile(latencies, 0.99) * 1000,
            counters_consistent=stats["consistent"],
            error_sample=errors[0] if errors else "",
            materialised_per_second=stats["written"] / stats["written_wall"] if stats["written_wall"] else 0.0,
            server_cpu_ms=stats["cpu"] / len(latencies) * 1000 if latencies else 0.0,
        )
        results.append(result)
        print(format_result(result), flush=True)
    direct, gate = results
    if direct.sign_ups_per_second:
        print(
            f"[{database}] gate answered / direct: {gate.sign_ups_per_second / direct.sign_ups_per_second:.1f}x; "
            f"gate written / direct: {gate.materialised_per_second / direct.sign_ups_per_second:.1f}x",
            flush=True,
        )
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"groupbuy_signup-{database}.json").write_text(
        json.dumps(
            {
                "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                "args": vars(args),
                "machine": machine(),
                "results": [asdict(result) for result in results],
            },
            indent=2,
        )
    )
    return results


def format_result(result: Result) -> str:
    return (
        f"[{result.database}] {result.path:6} {result.sign_ups_per_second:8.1f} answered/s"
        + (f" ({result.materialised_per_second:.1f} written/s)" if result.path == "gate" else "")
        + f"  p50 {result.p50_ms:7.1f} ms  "
        f"p99 {result.p99_ms:7.1f} ms  server CPU {result.server_cpu_ms:.2f} ms/sign-up  "
        f"sign-ups {result.sign_ups}  errors {result.errors}  "
        f"counters consistent: {result.counters_consistent}"
        + (f"\n    first error: {result.error_sample}" if result.error_sample else "")
    )


def report() -> None:
    """Rewrites this benchmark's own section of docs/benchmarks.md from var/bench/groupbuy_signup-*.json."""
    runs = [json.loads(path.read_text()) for path in sorted(RESULTS_DIR.glob("groupbuy_signup-*.json"))]
    if not runs:
        print("no results in var/bench: run `bench/groupbuy_signup.py run` first", file=sys.stderr)
        sys.exit(1)
    start, end = "<!-- bench:groupbuy_signup:start", "<!-- bench:groupbuy_signup:end -->"
    lines = [start + " (generated by bench/groupbuy_signup.py report) -->", ""]
    lines.append(
        "| database | path | members at once | rounds | answered/s | written/s | p50 ms | p99 ms "
        "| server CPU ms/sign-up | errors | counters consistent |"
    )
    lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    notes = []
    for run in runs:
        for r in run["results"]:
            written = r["materialised_per_second"] if r["path"] == "gate" else r["sign_ups_per_second"]
            lines.append(
                f"| {r['database']} | {r['path']} | {r['members']} | {r['rounds']} | {r['sign_ups_per_second']:.1f} | "
                f"{written:.1f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['server_cpu_ms']:.2f} | "
                f"{r['errors']} | "
                f"{'yes' if r['counters_consistent'] else 'NO'} |"
            )
        notes.append(
            f"- {run['results'][0]['database']}: {run['when']}; {run['machine']}; granian "
            f"{run['args']['workers']} worker(s) × {run['args']['threads']} threads; "
            f"{run['args']['consumers']} dedicated consumer(s), {run['args']['processes']} load processes × "
            f"{run['args']['connections']} connections"
        )
    lines += ["", *notes, "", end]
    write_section("groupbuy_signup", "\n".join(lines), SECTION_INTRO)


SECTION_INTRO = """## Group-buy sign-up burst (bench/groupbuy_signup.py)

Members of a community sign up for one campaign at once over HTTP, one unit each, one request per
member, two ways in the same run (a fresh campaign each, stock = members), through the thin front
(granian ASGI, as `make run`) with a throwaway Redis for the gate and the cache:

- **direct** (`/bench/direct-sign-up/{id}/`, the reference, 500 members): the request waits for its
  sign-up and order (`groupbuy.actions.sign_up`: the gate, then the consumer writes it while the
  request waits), as every sign-up was answered before the gate answered at once;
- **gate** (`POST /api/v1/groupbuy/campaigns/{id}/sign-ups` with `X-Jielong-Ticket`, 3,000
  members): the front verifies the gate ticket the campaign page issued and answers 202 (排队中)
  on its event loop; a dedicated consumer process (`groupbuy.actions.run_consumer`) writes the
  sign-ups behind. *answered/s* is 202s from the first request sent to the last answer;
  *written/s* is sign-ups from the first request sent to the last one written.

The load: 2 processes × 32 keep-alive connections, each sending its members' requests one after
the other. After each round the campaign's sold counter is checked against the answers and the
written sign-ups, and every answered ticket against its written claim.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="measure on DATABASE_URL (or a temporary SQLite database)")
    run.add_argument("--members", type=int, default=int(os.environ.get("BENCH_GB_MEMBERS", "3000")))
    run.add_argument("--direct-members", type=int, default=500, help="the reference's burst (it writes in the request)")
    run.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_GB_ROUNDS", "1")))
    run.add_argument("--processes", type=int, default=2, help="load-generator processes")
    run.add_argument("--connections", type=int, default=32, help="keep-alive connections per load process")
    run.add_argument("--consumers", type=int, default=1, help="dedicated consumer processes (with Redis)")
    run.add_argument("--workers", type=int, default=int(os.environ.get("BENCH_WORKERS", "1")))
    run.add_argument("--threads", type=int, default=int(os.environ.get("BENCH_THREADS", "8")))
    commands.add_parser("report", help="write this benchmark's section of docs/benchmarks.md")
    args = parser.parse_args()
    os.chdir(ROOT)
    if args.command == "run":
        measure(args)
    else:
        report()


if __name__ == "__main__":
    main()
