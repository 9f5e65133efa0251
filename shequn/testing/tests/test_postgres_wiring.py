"""Proves the PostgreSQL pass is real: concurrent writers on one SKU row, on a real engine."""

import threading

import pytest
from django.db import connection, connections
from django.db.models import F

from shequn.catalog.models import Sku
from shequn.testing.factories import SkuFactory

BUYERS = 24
STOCK = 10


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_conditional_updates_sell_exactly_the_stock() -> None:
    assert connection.vendor == "postgresql"
    sku: Sku = SkuFactory.create(stock=STOCK)
    start = threading.Barrier(BUYERS)
    sold: list[bool] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def buy() -> None:
        try:
            start.wait(timeout=30)
            # One statement: the row lock is taken and the condition re-checked by the database.
            updated = Sku.objects.filter(pk=sku.pk, stock__gte=1).update(stock=F("stock") - 1)
            with lock:
                sold.append(updated == 1)
        except BaseException as error:  # collected and re-raised in the main thread
            with lock:
                errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=buy) for _ in range(BUYERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors, errors
    assert len(sold) == BUYERS
    assert sold.count(True) == STOCK
    sku.refresh_from_db()
    assert sku.stock == 0


@pytest.mark.postgres
def test_postgres_pass_talks_to_a_throwaway_cluster(db) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SHOW fsync")
        # scripts/with-postgres trades durability for speed; a real server would have fsync on.
        assert cursor.fetchone() == ("off",)
