"""Set-based writes the ORM has no method for (architecture rule 12: many rows, one statement).

    insert_from(Notification, ["user_id", "shop_id", …], queryset.values_list(…))

is ``INSERT INTO <table> (<columns>) SELECT …`` where the SELECT is the queryset's own SQL: the
rows never come to Python. The queryset's columns line up with ``fields`` by position (Django
selects ``values_list`` columns in the order given, annotations included), so give every column
that has no database default (``auto_now_add`` and Python-side defaults are not applied here).
"""

from collections.abc import Sequence
from typing import Any

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.constants import OnConflict


def insert_from(
    model: type[Model], fields: Sequence[str], rows: QuerySet[Any], *, ignore_conflicts: bool = False
) -> int:
    """Insert the rows ``rows`` selects into ``model``'s table in one statement; returns how many
    were written. ``ignore_conflicts`` skips the rows a unique constraint refuses (INSERT OR
    IGNORE on SQLite, ON CONFLICT DO NOTHING on PostgreSQL, as ``bulk_create`` does)."""
    connection = connections[rows.db]
    select, params = rows.query.get_compiler(using=rows.db).as_sql()
    quote = connection.ops.quote_name
    column_of = {field.attname: str(field.column) for field in model._meta.concrete_fields}
    columns = ", ".join(quote(column_of[name]) for name in fields)
    on_conflict = OnConflict.IGNORE if ignore_conflicts else None
    insert = connection.ops.insert_statement(on_conflict=on_conflict)
    suffix = connection.ops.on_conflict_suffix_sql([], on_conflict, [], [])
    # Table and column names come from the model; every value is a parameter of the SELECT.
    sql = f"{insert} {quote(model._meta.db_table)} ({columns}) {select} {suffix}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
