"""``core.sql`` on rows of the apps that use it: ``insert_objects`` writes what ``bulk_create`` would
write with the keys in order, ``insert_rows`` reads conflicts back, and SQLite's variable limit is
respected (several statements, same rows). Here, not in core: core imports no app."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shequn.core.sql import insert_objects, insert_rows, insert_values
from shequn.notifications.models import Notification
from shequn.orders.models import PurchaseCounter
from shequn.testing.factories import UserFactory
from shequn.testing.orders import make_shop, make_sku

pytestmark = pytest.mark.django_db


def test_insert_objects_writes_what_bulk_create_writes_and_sets_the_keys():
    shop, users = make_shop(), UserFactory.create_batch(3)
    made = [Notification(user=user, shop=shop, kind="k", title=f"标题{n}", body="正文") for n, user in enumerate(users)]
    by_django = Notification.objects.bulk_create(
        [Notification(user=user, shop=shop, kind="k", title=f"标题{n}", body="正文") for n, user in enumerate(users)]
    )
    insert_objects(made)
    assert [row.pk for row in made] == sorted(row.pk for row in made)
    fields = ("user_id", "shop_id", "kind", "title", "body", "link", "read_at")
    assert [Notification.objects.values_list(*fields).get(pk=row.pk) for row in made] == [
        Notification.objects.values_list(*fields).get(pk=row.pk) for row in by_django
    ]
    assert all(row.created_at is not None and not row._state.adding for row in made)


def test_insert_values_fills_the_defaults_an_instance_would_have():
    shop, user = make_shop(), UserFactory.create()
    by_django = Notification.objects.create(user=user, shop=shop, kind="k", title="标题")
    ((pk,),) = insert_values(
        Notification, [{"user_id": user.pk, "shop_id": shop.pk, "kind": "k", "title": "标题"}], returning=("id",)
    )
    fields = ("user_id", "shop_id", "kind", "title", "body", "link", "read_at")
    assert Notification.objects.values_list(*fields).get(pk=pk) == Notification.objects.values_list(*fields).get(
        pk=by_django.pk
    )
    assert Notification.objects.get(pk=pk).created_at >= by_django.created_at
    with pytest.raises(ValueError, match="titel"):
        insert_values(Notification, [{"user_id": user.pk, "titel": "错字"}])


def test_a_conflict_clause_and_returning_tell_which_rows_went_in():
    shop = make_shop()
    sku = make_sku(shop)
    users = UserFactory.create_batch(3)
    PurchaseCounter.objects.create(shop=shop, user=users[0], product=sku.product, quantity=2)
    returned = insert_rows(
        PurchaseCounter,
        ("shop", "user", "product", "quantity"),
        [(shop.pk, user.pk, sku.product_id, 1) for user in users],
        conflict="ON CONFLICT (user_id, product_id) DO NOTHING",
        returning=("user_id",),
    )
    assert returned == [(users[1].pk,), (users[2].pk,)]
    assert PurchaseCounter.objects.get(user=users[0]).quantity == 2


def test_rows_beyond_sqlites_variable_limit_go_in_several_statements(monkeypatch):
    # PostgreSQL takes any number of rows in one statement (one array per column).
    monkeypatch.setattr(type(connection.features), "max_query_params", 20)  # 2 notifications per statement (8 columns)
    shop, user = make_shop(), UserFactory.create()
    made = [Notification(user=user, shop=shop, kind="k", title=str(n)) for n in range(5)]
    with CaptureQueriesContext(connection) as queries:
        insert_objects(made)
    assert len(queries.captured_queries) == (1 if connection.vendor == "postgresql" else 3)
    assert [row.title for row in Notification.objects.filter(pk__in=[row.pk for row in made]).order_by("pk")] == [
        "0",
        "1",
        "2",
        "3",
        "4",
    ]
    assert [row.pk for row in made] == sorted({row.pk for row in made})


@pytest.mark.postgres
def test_columns_the_same_in_every_row_go_once_and_every_row_holds_them():
    shop, users = make_shop(), UserFactory.create_batch(3)
    now = timezone.now()
    rows = [(user.pk, shop.pk, "k", "同一标题", f"正文{n}", "", None, now) for n, user in enumerate(users)]
    with CaptureQueriesContext(connection) as queries:
        returned = insert_rows(
            Notification,
            ("user", "shop", "kind", "title", "body", "link", "read_at", "created_at"),
            rows,
            returning=("id",),
        )
    (sql,) = [query["sql"] for query in queries.captured_queries]
    assert sql.count("同一标题") == 1  # sent once, not once per row
    fields = ("user_id", "shop_id", "kind", "title", "body", "link", "read_at", "created_at")
    assert [Notification.objects.values_list(*fields).get(pk=pk) for (pk,) in returned] == rows
    # One row, every value its own: still one row.
    (only,) = insert_rows(
        PurchaseCounter,
        ("shop", "user", "product", "quantity"),
        [(shop.pk, users[0].pk, make_sku(shop).product_id, 1)],
        returning=("quantity",),
    )
    assert only == (1,)


def test_any_of_finds_what_in_finds_with_one_array_on_postgresql():
    shop = make_shop()
    users = UserFactory.create_batch(3)
    for user in users:
        PurchaseCounter.objects.create(shop=shop, user=user, product=make_sku(shop).product, quantity=1)
    wanted = {users[0].pk, users[2].pk, 10**9}
    with CaptureQueriesContext(connection) as queries:
        found = sorted(PurchaseCounter.objects.filter(user_id__any_of=wanted).values_list("user_id", flat=True))
    assert found == sorted(PurchaseCounter.objects.filter(user_id__in=wanted).values_list("user_id", flat=True))
    assert found == sorted([users[0].pk, users[2].pk])
    assert ("= ANY(" in queries.captured_queries[0]["sql"]) == (connection.vendor == "postgresql")
    assert not PurchaseCounter.objects.filter(user_id__any_of=[]).exists()
