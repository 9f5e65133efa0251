"""Flash-sale consumer throughput: admitted claims at the gate becoming orders, in batches.

    scripts/with-postgres .venv/bin/python bench/flash_materialise.py [--claims 20000] [--reference 1000]
        [--batch 500] [--statements | --profile]
    .venv/bin/python bench/flash_materialise.py                                     # SQLite, temporary SHEQUN_VAR_DIR

Measures the consumer only (the gate is the in-process LocalGate; filling it is not timed). Each run
migrates a fresh database, creates a shop, a SKU with enough stock, a pickup point and N members
(half with a default address, half collected at the pickup point), and three flash items of one
running sale. Then, side by side in the same process and database:

1. **batched**: N claims put into the gate for item A, then ``materialise_claims()`` (batches of
   500, one transaction each) timed → orders/s;
2. **one claim at a time**: R claims for item B written through the same code one claim per
   transaction (the consumer's fallback path) → orders/s;
3. **checkout per claim** (the consumer before batching): R claims for item C, each through
   ``orders.actions.create_order`` plus its ``FlashClaim`` row and history → orders/s.

After each it checks the books: one order per claim, stock down by exactly the units ordered,
``reconcile`` balanced. Prints figures and the ratios, with this process's CPU and (PostgreSQL) the
database backend's CPU per order, read from /proc: the consumer and its backend take turns on one
connection, so "orders per CPU-second of both" is its rate on an otherwise idle machine, and moves
far less than wall time when other work shares the cores. ``--statements`` times the batched run's
statements by kind; ``--profile`` prints its cProfile top functions instead of timing it cleanly.
Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET_PER_SECOND = 2_500


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    if not os.environ.get("DATABASE_URL"):
        os.environ["SHEQUN_VAR_DIR"] = tempfile.mkdtemp(prefix="shequn-flash-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shequn.settings")
    os.environ["HUEY_IMMEDIATE"] = "1"  # ETA tasks (unpaid-close) wait in memory, as under the tests
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)
    from django.urls import reverse

    reverse("orders:order_detail", args=["0"])  # load the URLconf (and the API) before any timing


def build(members: int, items: int) -> tuple[Any, list[Any], list[Any]]:
    """A running sale of ``items`` items of one SKU, each for ``members`` units, and the members."""
    from django.utils import timezone

    from shequn.accounts.models import Address, User
    from shequn.flashsales import actions
    from shequn.flashsales.actions import ItemInput, SaleInput, SessionInput
    from shequn.testing.factories import PickupPointFactory
    from shequn.testing.orders import make_shop, make_sku, make_staff

    shop = make_shop()
    sku = make_sku(shop, price_fen=199900, stock=members * items, title="手机")
    PickupPointFactory.create(shop=shop)
    operator = make_staff(shop)
    users = User.objects.bulk_create(
        [User(username=f"bench{n}", nickname=f"买家{n}", phone=None) for n in range(members)], batch_size=5000
    )
    Address.objects.bulk_create(
        [
            Address(
                user=user,
                recipient="王小明",
                phone="13912345678",
                province_code="310000",
                province="上海市",
                city_code="310100",
                city="上海市",
                detail="张江路 100 弄",
                is_default=True,
            )
            for user in users[::2]
        ],
        batch_size=5000,
    )
    now = timezone.now()
    # One session per item (a SKU appears once per session), an hour each from a minute ahead:
    # the gate is asked with explicit times inside each window, and the consumer does not look at
    # the clock.
    sessions = [
        SessionInput(
            starts_at=now + timedelta(minutes=1, hours=n),
            ends_at=now + timedelta(minutes=1, hours=n + 1),
            items=[ItemInput(sku_id=sku.pk, flash_price_fen=99900, quantity=members, per_person_cap=1)],
        )
        for n in range(items)
    ]
    sale = actions.create_sale(
        shop,
        operator,
        SaleInput(
            title="压测秒杀",
            reservation_starts_at=now - timedelta(days=1),
            sessions=sessions,
            payment_timeout_minutes=10,
        ),
    )
    actions.schedule_sale(shop, operator, sale.pk)  # no transaction here: configures the gate at once
    return sku, actions._sale_items(sale), users


def admit(item: Any, users: list[Any]) -> None:
    from shequn.flashsales.models import pool_key
    from shequn.gate.engine import get_gate

    gate, key, moment = get_gate(), pool_key(item.pk), item.session.starts_at + timedelta(seconds=1)
    for user in users:
        assert gate.attempt(key, user.pk, 1, now=moment).admitted


def check(item: Any, claims: int) -> str:
    from shequn.flashsales import actions
    from shequn.flashsales.enums import ClaimStatus
    from shequn.flashsales.models import FlashClaim

    ordered = FlashClaim.objects.filter(item=item, status=ClaimStatus.ORDERED, order__isnull=False).count()
    truth = actions.reconcile(item)
    ok = ordered == claims and truth.ok
    return f"{ordered:,} orders for {claims:,} claims, books {'balanced' if ok else 'NOT BALANCED'}"


def checkout_per_claim(item: Any) -> int:
    """The consumer before batching: per claim a transaction with the duplicate check, the item's
    lock, the claim row, the live-units sum, ``create_order`` (full checkout) and the claim's move."""
    from django.db import transaction
    from django.db.models import Q, Sum
    from django.utils import timezone

    from shequn.accounts.models import Address, User
    from shequn.flashsales.actions import CONSUMER, LIVE_CLAIMS
    from shequn.flashsales.enums import ClaimStatus
    from shequn.flashsales.models import FlashClaim, FlashItem
    from shequn.flashsales.state import transition_claim
    from shequn.gate.engine import get_gate
    from shequn.orders import actions as order_actions
    from shequn.shops.models import PickupPoint

    gate = get_gate()
    done = 0
    while claims := gate.read_claims("flash", CONSUMER, count=200):
        for claim in claims:
            with transaction.atomic():
                assert not FlashClaim.objects.filter(
                    Q(claim_id=claim.claim_id) | Q(regained_claim_id=claim.claim_id)
                ).exists()
                locked = FlashItem.objects.select_for_update().select_related("session__sale").get(pk=item.pk)
                row = FlashClaim.objects.create(
                    claim_id=claim.claim_id,
                    item=locked,
                    user_id=claim.member_id,
                    quantity=claim.quantity,
                    admitted_at=claim.admitted_at,
                )
                FlashClaim.objects.filter(item=locked, status__in=LIVE_CLAIMS).aggregate(units=Sum("quantity"))
                user = User.objects.get(pk=claim.member_id)
                address = Address.objects.filter(user=user).first()
                if address is not None:
                    destination: dict[str, Any] = {"fulfilment": "delivery", "address_id": address.pk}
                else:
                    point = PickupPoint.objects.filter(shop_id=locked.session.sale.shop_id, is_active=True).first()
                    assert point is not None
                    destination = {"fulfilment": "pickup", "pickup_point_id": point.pk}
                order = order_actions.create_order(
                    user,
                    lines=[(locked.sku_id, claim.quantity)],
                    unit_prices={locked.sku_id: locked.flash_price_fen},
                    pay_by=timezone.now() + timedelta(minutes=10),
                    payment_method="sandbox",
                    require_destination=False,
                    **destination,
                )
                transition_claim(
                    row, ClaimStatus.ORDERED, sale_id=locked.session.sale_id, order=order, note=f"订单 {order.number}"
                )
            done += 1
        gate.ack(claims)
    return done


def one_claim_at_a_time() -> int:
    from shequn.flashsales import actions
    from shequn.gate.engine import get_gate

    gate = get_gate()
    done = 0
    while claims := gate.read_claims("flash", actions.CONSUMER, count=200):
        for claim in claims:
            assert actions._materialise(claim) == "ordered"
            done += 1
        gate.ack(claims)
    return done


def server_cpu_seconds() -> float | None:
    """CPU time of this connection's PostgreSQL backend so far (same machine, from /proc)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(label: str, run: Any, item: Any, claims: int, stock_before: int, sku: Any) -> float:
    server_started = server_cpu_seconds()
    started, cpu_started = time.perf_counter(), time.process_time()
    made = run()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    server_ended = server_cpu_seconds()
    server = ""
    if server_started is not None and server_ended is not None:
        busy = cpu + server_ended - server_started
        server = (
            f", {1000 * (server_ended - server_started) / made:5.2f} ms of the database's; "
            f"{made / busy:,.0f} orders per CPU-second of both"
        )
    sku.refresh_from_db()
    taken = stock_before - sku.stock
    rate = made / seconds
    print(
        f"  {label:<22} {made:>7,} orders in {seconds:7.2f} s = {rate:8,.0f} orders/s "
        f"({1000 / rate:6.2f} ms each, {1000 * cpu / made:5.2f} ms of this process's CPU{server}); "
        f"{check(item, claims)}; stock down by {taken:,}",
        flush=True,
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--claims", type=int, default=20_000, help="claims for the batched consumer")
    parser.add_argument("--reference", type=int, default=1_000, help="claims for each reference path")
    parser.add_argument("--batch", type=int, default=500, help="claims per batch (materialise_claims count)")
    parser.add_argument("--profile", action="store_true", help="cProfile the batched run")
    parser.add_argument("--statements", action="store_true", help="time the batched run's statements by kind")
    args = parser.parse_args()
    if not 1 <= args.reference <= args.claims <= 200_000:
        parser.error("need 1 <= --reference <= --claims <= 200000")

    setup_django()
    from django.db import connection

    from shequn.flashsales import actions

    print(f"[{connection.vendor}] building: {args.claims:,} members, a sale of 3 items", flush=True)
    sku, (batched_item, single_item, checkout_item), users = build(args.claims, 3)
    admit(batched_item, users)
    print(f"[{connection.vendor}] {args.claims:,} claims waiting at the gate; materialising", flush=True)
    stock = sku.stock

    def batched() -> int:
        return actions.materialise_claims(count=args.batch).ordered

    if args.statements:
        spent: dict[str, list[float]] = {}

        def timing(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            begun = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                verb = sql.split(None, 1)[0].upper()
                table = re.search(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', sql)
                key = f"{verb} {table.group(1) if table else ''}"
                spent.setdefault(key, []).append(time.perf_counter() - begun)

        with connection.execute_wrapper(timing):
            rate = timed(f"batched ({args.batch})", batched, batched_item, args.claims, stock, sku)
        for key, times in sorted(spent.items(), key=lambda pair: -sum(pair[1])):
            print(f"    {key:<40} {len(times):>5} statements {1000 * sum(times):9.1f} ms")
        return
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        rate = timed(f"batched ({args.batch}) [profiled]", batched, batched_item, args.claims, stock, sku)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        return
    rate = timed(f"batched ({args.batch})", batched, batched_item, args.claims, stock, sku)

    sample = users[: args.reference]
    admit(single_item, sample)
    single = timed("one claim at a time", one_claim_at_a_time, single_item, args.reference, sku.stock, sku)
    admit(checkout_item, sample)
    checkout = timed(
        "checkout per claim", lambda: checkout_per_claim(checkout_item), checkout_item, args.reference, sku.stock, sku
    )
    print(
        f"[{connection.vendor}] batched / one-at-a-time = {rate / single:.1f}x; batched / checkout-per-claim = "
        f"{rate / checkout:.1f}x; target {TARGET_PER_SECOND:,}/s: "
        + ("met" if rate >= TARGET_PER_SECOND else f"missed by {TARGET_PER_SECOND - rate:,.0f}/s"),
        flush=True,
    )


if __name__ == "__main__":
    main()
