"""The batched consumer on PostgreSQL: the mixed batch, and consumers writing batches while
checkout sells the same SKU's last units (row locks only a real engine takes).

Outcomes only: no wall-time bound, and no claim about which side of a race won.
"""

from collections import Counter

import pytest

from shequn.accounts.models import Address, User
from shequn.catalog.models import Sku
from shequn.flashsales import actions
from shequn.flashsales.enums import ClaimStatus
from shequn.flashsales.models import FlashClaim
from shequn.orders.models import Order
from shequn.testing.factories import PickupPointFactory
from shequn.testing.orders import place_order

from .conftest import item_of, make_running
from .test_batches import mixed_batch
from .test_concurrency_postgres import run_pool

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_batch_of_mixed_claims_gives_exact_counts(shop, other_shop, operator, other_operator, gate, commit, sandbox):
    mixed_batch(shop, other_shop, operator, other_operator, gate, commit)


def test_batches_and_checkouts_racing_for_the_last_units_never_oversell(shop, operator, sku, gate, commit, sandbox):
    # 60 units on the shelf; a flash item takes 50 of them in claims while 20 members check out
    # the same SKU at the shelf price: exactly 60 orders, whoever wins each unit.
    PickupPointFactory.create(shop=shop)
    Sku.objects.filter(pk=sku.pk).update(stock=60)
    item = item_of(make_running(shop, operator, sku, commit, quantity=50))
    members = User.objects.bulk_create([User(username=f"m{n}", nickname=f"m{n}", phone=None) for n in range(70)])
    Address.objects.bulk_create(
        [
            Address(
                user=m,
                recipient="王",
                phone="13912345678",
                province="上海市",
                city="上海市",
                detail="1号",
                is_default=True,
            )
            for m in members[50:]
        ]
    )
    for member in members[:50]:
        actions.attempt(member, item.pk)
    consumers = [lambda n=n: actions.materialise_claims(consumer=f"c{n}", count=9, idle_ms=0) for n in range(4)]
    checkouts = [lambda m=m: place_order(m, sku).number for m in members[50:]]
    outcomes = run_pool(consumers + checkouts)
    sold_out_at_checkout = Counter(o for o in outcomes[4:] if o == "sold_out")["sold_out"]
    results = outcomes[:4]
    ordered = sum(result.ordered for result in results)
    released = sum(result.released for result in results)
    assert ordered + released == 50  # every claim written once, whatever consumer took it
    assert ordered + (20 - sold_out_at_checkout) == 60
    assert Order.objects.count() == 60
    assert Sku.objects.get(pk=sku.pk).stock == 0
    assert FlashClaim.objects.filter(status=ClaimStatus.ORDERED).count() == ordered
    assert set(FlashClaim.objects.filter(status=ClaimStatus.RELEASED).values_list("reason", flat=True)) <= {
        f"「{sku.product.title} {sku.spec}」库存不足，已售罄或剩余不够"
    }
    assert actions.reconcile(item).ok
