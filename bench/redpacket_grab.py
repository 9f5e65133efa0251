"""Red-packet grabs through the gate's thin front, side by side with the flash-sale attempt in the
same run (the same harness as bench/flash_sale.py: granian serving shequn.front, wrk on 127.0.0.1,
tickets in turn from a file), then the admitted grabs written and credited by the consumer.

    scripts/with-postgres .venv/bin/python bench/redpacket_grab.py run     # PostgreSQL + a throwaway Redis
    .venv/bin/python bench/redpacket_grab.py report                        # results -> docs/benchmarks.md

1. a throwaway redis-server (no persistence) for the gate, the cache and Huey; migrate; GRABBERS
   members (INSERT … SELECT); a community; a red packet of PARTS parts funded from the shop's
   ledger account (its pool configured at the gate on commit); a flash sale with 10 million units
   (bench/flash_sale.py's steady-state pool);
2. tickets: one per member for the packet (signed as the packet page signs them; each grab phase
   its own half of the members, so every grab is a first one), 20,000 for the flash item;
3. through the front, BENCH_FLASH_SECONDS (10) each, BENCH_FLASH_CONNECTIONS (32) connections: the
   grab (`POST /api/v1/redpackets/{id}/grabs`, `X-RedPacket-Ticket`, no body), the flash attempt,
   and the grab again (the machine is shared: two grab phases around the flash one show the drift);
4. the gate's figures checked against the answers (admitted = 202s, nobody over the cap of 1,
   units + admitted = parts), then `materialise_grabs` writes every admitted grab: grabs/s, and the
   books (grab rows = credits = packet figures; the ledger sums to zero).

wrk shares the 2 cores with the servers, Redis and other sessions' work, as every figure here does.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from docsection import write_section  # bench/ is not a package
from flash_sale import STEADY_TICKETS, STEADY_UNITS, WRK_SCRIPT, _environment, _load_members, _phase, _setup_django
from order_create import free_port, start_redis, start_server, stop_server

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "var" / "bench" / "redpacket_grab.json"
GRABBERS = 100_000
PARTS = 100_000  # more than two phases can admit, so the figure is grabs, not sold-out refusals
POOL_FEN = 10_000_000  # ¥100,000: ¥1 a part on average
TARGET_GRABS = 5_000
ONE = '{"quantity": 1}'  # a flash attempt's body


def _build(work: Path) -> dict[str, Any]:
    from datetime import timedelta

    from django.utils import timezone

    from shequn.flashsales import actions as flash
    from shequn.flashsales import tickets as flash_tickets
    from shequn.flashsales.actions import ItemInput, SaleInput, SessionInput
    from shequn.redpackets import actions, tickets
    from shequn.redpackets.actions import PacketInput
    from shequn.testing.factories import CommunityFactory
    from shequn.testing.orders import make_shop, make_sku, make_staff

    shop = make_shop(name="红包压测店", slug="redpacket-bench")
    owner = make_staff(shop)
    community = CommunityFactory.create(shop=shop, name="压测社群")
    now = timezone.now()
    print(f"loading {GRABBERS:,} members (set-based)", flush=True)
    members = _load_members(GRABBERS, "grab-")
    started = time.perf_counter()
    packet = actions.fund_packet(
        shop,
        owner,
        PacketInput(
            title="压测红包雨",
            total_fen=POOL_FEN,
            count=PARTS,
            split="random",
            audience="community",
            community_id=community.pk,
            starts_at=now - timedelta(seconds=1),
            expires_at=now + timedelta(hours=1),
        ),
    )  # autocommit: the pool is configured at the gate as it returns
    fund_seconds = time.perf_counter() - started
    print(f"  funded {PARTS:,} parts and configured the pool in {fund_seconds:.2f} s", flush=True)
    sku = make_sku(shop, price_fen=3500, stock=STEADY_UNITS, title="压测三文鱼", returnable=False)
    starts = now - timedelta(seconds=1)
    sale = flash.create_sale(
        shop,
        owner,
        SaleInput(
            title="压测秒杀",
            reservation_starts_at=now - timedelta(days=1),
            sessions=[
                SessionInput(
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=1),
                    items=[ItemInput(sku_id=sku.pk, flash_price_fen=1750, quantity=STEADY_UNITS, per_person_cap=100)],
                )
            ],
        ),
    )
    flash.schedule_sale(shop, owner, sale.pk)
    item = flash._sale_items(sale)[0].pk
    first = members["first_id"]
    # Each grab phase has its own members, so every request is a first grab (not an over-cap refusal).
    half = GRABBERS // 2
    for name, members_range in (("grab-1.txt", range(half)), ("grab-2.txt", range(half, GRABBERS))):
        (work / name).write_text("\n".join(tickets.sign(first + n, packet.pk).token for n in members_range) + "\n")
    (work / "flash.txt").write_text(
        "\n".join(flash_tickets.sign(first + n, item, 100).token for n in range(STEADY_TICKETS)) + "\n"
    )
    return {"packet": packet.pk, "flash_item": item, "fund_seconds": fund_seconds}


def _check_and_write(packet_id: int, grab_phases: list[dict[str, Any]]) -> dict[str, Any]:
    """The gate against the answers, then the consumer writes every admitted grab."""
    from django.db.models import Sum

    from shequn.gate.engine import get_gate
    from shequn.redpackets import actions, selectors
    from shequn.redpackets.models import RedPacket, pool_key
    from shequn.wallets.models import Entry

    state = get_gate().state(pool_key(packet_id))
    # wrk counts the answers it read; a few requests in flight when it stopped were admitted unread.
    answered = sum(phase["statuses"].get("202", 0) for phase in grab_phases)
    holding = max(state.held_by_member.values(), default=0)
    started = time.perf_counter()
    written = actions.materialise_grabs()
    seconds = time.perf_counter() - started
    packet = RedPacket.objects.get(pk=packet_id)
    books = selectors.books(packet)
    return {
        "admitted_at_gate": state.admitted_units,
        "answered_202": answered,
        "units_left": state.units_left,
        "units_balance": state.units_left + state.admitted_units == PARTS,
        "most_held_by_one_member": holding,
        "written": written,
        "written_equals_admitted": written == state.admitted_units,
        "write_seconds": seconds,
        "grabs_written_per_second": written / seconds if seconds else None,
        "grabbed_count": packet.grabbed_count,
        "books_agree": books.grabbed_fen == books.credited_fen == books.grab_rows_fen
        and books.holding_fen == packet.held_fen,
        "ledger_sum": Entry.objects.aggregate(total=Sum("amount_fen"))["total"] or 0,
    }


def measure(args: argparse.Namespace) -> None:
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        raise SystemExit("runs on PostgreSQL: scripts/with-postgres .venv/bin/python bench/redpacket_grab.py run")
    if shutil.which("wrk") is None:
        raise SystemExit("needs Debian's wrk (make bench installs it)")
    redis, redis_url = start_redis()
    servers: list[subprocess.Popen[bytes]] = []
    work = Path(tempfile.mkdtemp(prefix="shequn-redpacket-"))
    args.script = work / "attempt.lua"
    args.script.write_text(WRK_SCRIPT)
    try:
        _environment(redis_url)
        _setup_django()
        built = _build(work)
        port = free_port()
        front = start_server(dict(os.environ), port, args.workers, args.threads, server="front")
        servers.append(front)
        grab_path = f"/api/v1/redpackets/{built['packet']}/grabs"
        flash_path = f"/api/v1/flashsales/items/{built['flash_item']}/attempts"
        flash_tickets = work / "flash.txt"
        header = "X-RedPacket-Ticket"
        side = [
            _phase("red-packet grab (front)", front, port, grab_path, work / "grab-1.txt", header, "", args),
            _phase("flash attempt (front)", front, port, flash_path, flash_tickets, "X-Flash-Ticket", ONE, args),
            _phase("red-packet grab again (front)", front, port, grab_path, work / "grab-2.txt", header, "", args),
        ]
        time.sleep(2)  # requests in flight when wrk stopped are answered (and admitted) meanwhile
        checked = _check_and_write(built["packet"], [side[0], side[2]])
        print(f"gate and books: {checked}", flush=True)
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
                    "fund_seconds": built["fund_seconds"],
                    "side_by_side": side,
                    "checked": checked,
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
    side, checked = run["side_by_side"], run["checked"]
    grabs = [side[0]["per_second"], side[2]["per_second"]]
    verdicts = [
        "met" if rate >= TARGET_GRABS else f"missed by {(TARGET_GRABS - rate) / TARGET_GRABS:.0%}" for rate in grabs
    ]
    lines = [
        "<!-- bench:redpacket_grab:start (generated by bench/redpacket_grab.py report) -->",
        "",
        f"PostgreSQL + Redis, {run['when']}; {run['machine']}; granian {run['args']['workers']} workers "
        f"({run['args']['threads']} Django threads each); wrk 1 thread × {run['args']['connections']} connections "
        f"on the same 2 cores, {run['args']['seconds']:.0f} s a phase. Funding {PARTS:,} parts (drawn by the fair "
        f"rule) and configuring the pool: {run['fund_seconds']:.2f} s.",
        "",
        "| through the thin front | requests/s | p50 ms | p99 ms | answers | server CPU µs/request |",
        "|---|---:|---:|---:|---|---:|",
    ]
    for result in side:
        lines.append(
            f"| {result['name']} | {result['per_second']:,.0f} | {result['p50_ms']:.1f} | {result['p99_ms']:.1f} | "
            f"{result['statuses']}, socket errors {result['socket_errors']} | {result.get('server_cpu_us', 0):,.0f} |"
        )
    rate = checked["grabs_written_per_second"]
    lines += [
        "",
        f"Grabs/s, target ≥ {TARGET_GRABS:,}: {grabs[0]:,.0f} ({verdicts[0]}) and {grabs[1]:,.0f} ({verdicts[1]}); "
        f"the flash attempt in between: {side[1]['per_second']:,.0f}/s. A 409 is a member's second grab "
        f"(`red_packet_already_grabbed`): a phase that outruns its {GRABBERS // 2:,} members' tickets starts them "
        f"again. Gate: {checked['admitted_at_gate']:,} admitted (wrk read {checked['answered_202']:,} of the 202s; "
        f"the rest were in flight when it stopped); units left + admitted = parts: {checked['units_balance']}; "
        f"most held by one member: {checked['most_held_by_one_member']}. The consumer wrote and credited "
        f"{checked['written']:,} grabs (= admitted: {checked['written_equals_admitted']}) "
        f"in {checked['write_seconds']:.1f} s"
        + (f" ({rate:,.0f}/s)" if rate else "")
        + f"; books agree: {checked['books_agree']}; the ledger sums to {checked['ledger_sum']}.",
        "",
        "<!-- bench:redpacket_grab:end -->",
    ]
    write_section("redpacket_grab", "\n".join(lines), intro=INTRO)


INTRO = """## Red-packet grabs through the gate: `bench/redpacket_grab.py`

A 100,000-part red packet grabbed over HTTP on 127.0.0.1 through the thin front
(docs/adr/0018-red-packets.md), side by side with the flash-sale attempt in the same run and the same
harness (bench/flash_sale.py), then the admitted grabs written and credited by the consumer. The
machine is shared with other sessions: the load average in the first line is part of the result."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="measure on DATABASE_URL (PostgreSQL)")
    run.add_argument("--seconds", type=float, default=float(os.environ.get("BENCH_FLASH_SECONDS", "10")))
    run.add_argument("--connections", type=int, default=int(os.environ.get("BENCH_FLASH_CONNECTIONS", "32")))
    run.add_argument("--workers", type=int, default=2)
    run.add_argument("--threads", type=int, default=2, help="Django threads per worker (a2wsgi in the front)")
    commands.add_parser("report", help="write docs/benchmarks.md from the last run")
    args = parser.parse_args()
    os.chdir(ROOT)
    if args.command == "run":
        measure(args)
    else:
        report()


if __name__ == "__main__":
    main()
