"""接龙 consumer throughput: claims admitted at the gate becoming sign-ups with their pickup orders.

    .venv/bin/python bench/groupbuy_materialise.py [--claims 3000] [--batch 500] [--profile]
    scripts/with-postgres .venv/bin/python bench/groupbuy_materialise.py

Measures the consumer only (the gate is the in-process LocalGate; filling it is not timed). Each run
migrates a fresh database (a temporary SHEQUN_VAR_DIR for SQLite), creates a shop, a SKU with
enough stock, a community with a leader and a pickup point, and N members, publishes a campaign of
N units, puts one claim per member into the gate, then times ``groupbuy.actions.materialise_claims``
(batches of ``--batch``, a campaign's requests of a batch in one transaction) → sign-ups/s, with
this process's CPU per sign-up. Then the books: one sign-up and one order per claim, ``sold`` = N,
``reconcile`` balanced. ``--profile`` prints the cProfile top functions instead of a clean timing.
Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    if not os.environ.get("DATABASE_URL"):
        os.environ["SHEQUN_VAR_DIR"] = tempfile.mkdtemp(prefix="shequn-gb-bench-")
    os.environ.pop("REDIS_URL", None)  # the in-process gate: the consumer's own cost, no network
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shequn.settings")
    os.environ["HUEY_IMMEDIATE"] = "1"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)
    from django.urls import reverse

    reverse("orders:order_detail", args=["0"])  # load the URLconf (and the API) before any timing


def build(members: int) -> tuple[int, list[int]]:
    from django.utils import timezone

    from shequn.accounts.models import User
    from shequn.catalog.models import Product, Sku
    from shequn.communities.models import Community, CommunityMembership
    from shequn.groupbuy import actions
    from shequn.leaders.models import Leader
    from shequn.shops.models import PickupPoint, Shop

    shop = Shop.objects.create(name="压测店", slug="bench-gb-consumer")
    product = Product.objects.create(shop=shop, title="压测三文鱼", on_shelf=True, returnable=False)
    sku = Sku.objects.create(shop=shop, product=product, spec="500g", price_fen=6900, stock=10_000_000)
    community = Community.objects.create(shop=shop, name="压测社群")
    point = PickupPoint.objects.create(shop=shop, name="压测自提点", address="杭州市滨江区")
    boss = User.objects.create_user(username="bench-consumer-leader")
    leader = Leader.objects.create(
        shop=shop,
        user=boss,
        community=community,
        status="active",
        pickup_point=point,
        point_name=point.name,
        point_address=point.address,
        contact_phone="13900000000",
    )
    users = User.objects.bulk_create([User(username=f"gbc{n}", nickname=f"邻居{n}") for n in range(members)])
    CommunityMembership.objects.bulk_create([CommunityMembership(community=community, user=u) for u in users])
    now = timezone.now()
    data = actions.CampaignInput(
        title="压测接龙",
        starts_at=now - timedelta(minutes=1),
        deadline=now + timedelta(hours=6),
        pickup_date=(timezone.localtime(now) + timedelta(days=1)).date(),
        items=[actions.ItemInput(sku_id=sku.pk, price_fen=5900, stock_limit=members)],
    )
    campaign = actions.do_create_leader_campaign(leader, data)
    return campaign.items.get().pk, [u.pk for u in users]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--claims", type=int, default=3_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    setup_django()
    from django.db import connection

    from shequn.gate.engine import get_gate
    from shequn.groupbuy import actions, selectors
    from shequn.groupbuy.models import CampaignItem, SignUp, pool_key

    item_id, members = build(args.claims)
    gate = get_gate()
    for member_id in members:
        assert gate.attempt(pool_key(item_id), member_id, 1).admitted
    started, cpu = time.perf_counter(), time.process_time()
    if args.profile:
        profiler = cProfile.Profile()
        result = profiler.runcall(actions.materialise_claims, count=args.batch)
    else:
        result = actions.materialise_claims(count=args.batch)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    item = CampaignItem.objects.get(pk=item_id)
    books = selectors.reconcile(item)
    print(
        f"{connection.vendor}: {result.signed_up:,} sign-ups in {seconds:.2f} s = {result.signed_up / seconds:,.0f}/s "
        f"(batches of {args.batch}; consumer CPU {cpu / max(result.signed_up, 1) * 1000:.2f} ms per sign-up); "
        f"sign-ups {SignUp.objects.filter(campaign_id=item.campaign_id).count():,}, sold {item.sold:,}, "
        f"books balanced: {books.ok}; load average {os.getloadavg()[0]:.1f}"
    )
    if args.profile:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)


if __name__ == "__main__":
    main()
