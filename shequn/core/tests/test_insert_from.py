"""Set-based helpers: insert_from writes what a queryset selects, FormatFen is format_fen in SQL.

Both run on SQLite here and on PostgreSQL in the postgres pass (the same checks, marked)."""

from datetime import timedelta

import pytest
from django.db.models import F, Sum, Value
from django.db.models.functions import Concat
from django.utils import timezone

from shequn.core.models import RateLimitCounter
from shequn.core.money import FormatFen, format_fen
from shequn.core.sql import insert_from

AMOUNTS = [0, 5, 99, 100, 2990, 1234567, 100000000, 2147483647, -100, -123456789]


def formatted_in_sql(amount: int) -> str:
    RateLimitCounter.objects.get_or_create(key="row", defaults={"expires_at": timezone.now()})
    return RateLimitCounter.objects.annotate(text=FormatFen(Value(amount))).values_list("text", flat=True).get()


def copies_with_a_unique_conflict() -> tuple[int, list[tuple[str, int]]]:
    later = timezone.now() + timedelta(hours=1)
    RateLimitCounter.objects.create(key="a", count=1, expires_at=later)
    RateLimitCounter.objects.create(key="b", count=20, expires_at=later)
    RateLimitCounter.objects.create(key="copy:a", count=0, expires_at=later)  # already there
    rows = RateLimitCounter.objects.filter(key__in=["a", "b"]).values_list(
        Concat(Value("copy:"), "key"), F("count") * 3, "expires_at"
    )
    written = insert_from(RateLimitCounter, ["key", "count", "expires_at"], rows, ignore_conflicts=True)
    found = list(RateLimitCounter.objects.filter(key__startswith="copy:").order_by("key").values_list("key", "count"))
    return written, found


def format_fen_matches() -> None:
    assert [formatted_in_sql(amount) for amount in AMOUNTS] == [format_fen(amount) for amount in AMOUNTS]
    # Over an aggregate, as the settlement message uses it.
    RateLimitCounter.objects.create(key="x", count=150_000, expires_at=timezone.now())
    RateLimitCounter.objects.create(key="y", count=99, expires_at=timezone.now())
    total = RateLimitCounter.objects.filter(key__in=["x", "y"]).aggregate(text=FormatFen(Sum("count")))["text"]
    assert total == "¥1,500.99"


def insert_from_copies() -> None:
    assert copies_with_a_unique_conflict() == (1, [("copy:a", 0), ("copy:b", 60)])


@pytest.mark.django_db
def test_format_fen_in_sql_reads_exactly_as_format_fen():
    format_fen_matches()


@pytest.mark.django_db
def test_insert_from_writes_the_selected_rows_and_skips_conflicts():
    insert_from_copies()


@pytest.mark.postgres
@pytest.mark.django_db
def test_format_fen_in_sql_on_postgresql():
    format_fen_matches()


@pytest.mark.postgres
@pytest.mark.django_db
def test_insert_from_on_postgresql():
    insert_from_copies()
