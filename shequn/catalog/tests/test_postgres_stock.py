"""Concurrent stock changes never lose an update nor go below zero (PostgreSQL pass)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from shequn.catalog import actions
from shequn.catalog.actions import SkuInput
from shequn.catalog.models import Sku
from shequn.core.errors import InvalidInput
from shequn.core.models import AuditLog
from shequn.shops.enums import StaffRole
from shequn.testing.catalog import make_product
from shequn.testing.factories import StaffFactory


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_stock_changes_are_exact():
    staff = StaffFactory.create(role=StaffRole.OPERATOR)
    shop, operator = staff.shop, staff.user
    sku = make_product(shop, skus=[SkuInput(spec="500g", price_fen=3500, stock=10)], actor=operator).skus.get()
    parties = 15 + 15 + 5
    start = threading.Barrier(parties)

    def run(kind: str) -> str:
        try:
            start.wait(timeout=30)
            if kind == "staff_remove":
                actions.do_adjust_stock(shop, Sku.objects.get(pk=sku.pk), -1, actor=operator)
                return "removed"
            if kind == "reserve":
                return "reserved" if actions.reserve_stock(sku.pk, 1) else "sold_out"
            actions.do_adjust_stock(shop, Sku.objects.get(pk=sku.pk), 1, actor=operator)
            return "added"
        except InvalidInput as error:
            return error.code
        finally:
            connections.close_all()

    kinds = ["staff_remove"] * 15 + ["reserve"] * 15 + ["add"] * 5
    with ThreadPoolExecutor(max_workers=parties) as pool:
        outcomes = list(pool.map(run, kinds))

    taken = outcomes.count("removed") + outcomes.count("reserved")
    assert outcomes.count("added") == 5
    final = Sku.objects.get(pk=sku.pk).stock
    assert final >= 0
    assert final == 10 + 5 - taken  # no update lost
    assert taken <= 15
    audited = AuditLog.objects.filter(shop=shop, action="sku.stock_adjust").count()
    assert audited == outcomes.count("removed") + outcomes.count("added")
