"""Many rows in one statement (architecture rule 12), where the ORM has no method for it:

- ``insert_from(model, fields, queryset)``: ``INSERT INTO … SELECT`` with the queryset's own SQL,
  so the rows never come to Python (push fan-out, settlement, inbox rows for many members);
- ``insert_rows``: rows from Python where ``bulk_create`` cannot say it (an ``ON CONFLICT`` clause
  read back with ``RETURNING``);
- ``insert_objects``: ``bulk_create``'s rows without its per-value preparation (measured: most of
  a flash-sale consumer's CPU per order went there; bench/flash_materialise.py); ``insert_values``
  the same rows without building the instances.

And one lookup, ``field__any_of=values`` (``AnyOf``): ``__in`` for a batch's hundreds of values."""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.db import connection, connections, models
from django.db.models import Model, QuerySet
from django.db.models.constants import OnConflict
from django.db.models.fields.related_lookups import RelatedIn
from django.db.models.lookups import In
from django.utils import timezone

# Fields whose Python value is what the database takes (the drivers adapt int, str, bool, None).
_AS_IS = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "ForeignKey",
    "IntegerField",
    "OneToOneField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SmallIntegerField",
    "TextField",
}


def _adapter(field: Any) -> Callable[[Any], Any] | None:
    if isinstance(field, models.DateTimeField):
        return connection.ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return connection.ops.adapt_datefield_value
    if field.get_internal_type() in _AS_IS:
        return None
    return lambda value: field.get_db_prep_save(value, connection)


def insert_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    conflict: str = "",
    conflict_params: Sequence[Any] = (),
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """``INSERT INTO <model's table> (columns) … <conflict> RETURNING <returning>`` for ``rows``
    (values in ``columns`` order, as the model's fields hold them); returns what ``RETURNING`` gave,
    in the order of ``rows`` for inserted rows (as ``bulk_create`` relies on).

    On PostgreSQL the values travel as one array per column (``unnest(…)``, as Django's
    ``bulk_create`` sends them; a column with one value in every row as that value once), so the
    statement stays short whatever the row count;
    elsewhere as ``VALUES`` lists (as many rows per statement as the engine's variable limit allows)."""
    if not rows:
        return []
    fields = [model._meta.get_field(name) for name in columns]
    adapt = [_adapter(field) for field in fields]
    if connection.vendor == "postgresql":
        return _execute(model, fields, *_unnest(fields, adapt, rows), conflict, conflict_params, returning)
    # SQLite caps the variables of one statement: as many rows per statement as fit.
    per_statement = max(1, ((connection.features.max_query_params or 999) - len(conflict_params)) // len(fields))
    returned: list[tuple[Any, ...]] = []
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        row = f"({', '.join(['%s'] * len(fields))})"
        source = f"VALUES {', '.join([row] * len(chunk))}"
        params = [
            convert(value) if convert else value
            for values in chunk
            for value, convert in zip(values, adapt, strict=True)
        ]
        returned += _execute(model, fields, source, params, conflict, conflict_params, returning)
    return returned


def _unnest(
    fields: Sequence[Any], adapt: Sequence[Callable[[Any], Any] | None], rows: Sequence[Sequence[Any]]
) -> tuple[str, list[Any]]:
    """PostgreSQL's row source: one array per column through ``unnest``, except that a column
    holding one value in every row is sent once, as that value (quoting arrays was most of a
    batch's cost, and most columns of a batch of orders, lines or events are the same in every
    row). The first column always goes as an array: it carries the row count."""
    selected: list[str] = []
    scalars: list[Any] = []
    casts: list[str] = []
    arrays: list[list[Any]] = []
    for number, (field, column, convert) in enumerate(zip(fields, zip(*rows, strict=True), adapt, strict=True)):
        first = column[0]
        kind = field.db_type(connection)
        # Same type as well as equal: 1 and True, or 0 and 0.0, are never taken for each other.
        if number and all(type(value) is type(first) and value == first for value in column):
            selected.append(f"%s::{kind}")
            scalars.append(convert(first) if convert else first)
        else:
            selected.append(f"c{len(casts)}")
            casts.append(f"%s::{kind}[]")
            arrays.append([convert(value) for value in column] if convert else list(column))
    names = ", ".join(f"c{n}" for n in range(len(casts)))
    # Column types and positions, not data: every value is a parameter, the select list's first.
    source = f"SELECT {', '.join(selected)} FROM unnest({', '.join(casts)}) AS t({names})"  # noqa: S608
    return source, [*scalars, *arrays]


def _execute(
    model: type[models.Model],
    fields: Sequence[Any],
    source: str,
    params: list[Any],
    conflict: str,
    conflict_params: Sequence[Any],
    returning: Sequence[str],
) -> list[tuple[Any, ...]]:
    names = ", ".join(connection.ops.quote_name(str(field.column)) for field in fields)
    sql = f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({names}) {source} {conflict}"
    if returning:
        sql += f" RETURNING {', '.join(connection.ops.quote_name(name) for name in returning)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *conflict_params])
        return cursor.fetchall() if returning else []


def insert_objects[M: models.Model](objects: Sequence[M]) -> Sequence[M]:
    """``bulk_create(objects)`` for a hot path: every concrete field but the automatic primary key
    written as the instance holds it (after ``pre_save``: ``auto_now_add`` stamps), the primary
    keys set from ``RETURNING``. The instances must be complete (their model's defaults applied,
    as constructing them does) and of one model."""
    if not objects:
        return objects
    meta = type(objects[0])._meta
    pk = meta.pk
    assert pk is not None
    fields = [field for field in meta.concrete_fields if field is not pk]
    rows = [[field.pre_save(obj, True) for field in fields] for obj in objects]
    returned = insert_rows(type(objects[0]), [field.name for field in fields], rows, returning=(str(pk.column),))
    for obj, (key,) in zip(objects, returned, strict=True):
        obj.pk = key
        obj._state.adding = False
        obj._state.db = connection.alias
    return objects


def insert_values(
    model: type[models.Model], rows: Sequence[Mapping[str, Any]], *, returning: Sequence[str] = ()
) -> list[tuple[Any, ...]]:
    """``insert_objects`` without building the instances, for rows nothing reads back: each row
    maps attnames (``order_id``, ``title``) to values as the model's fields hold them; every
    other concrete field but the automatic primary key takes its default, as constructing the
    instance would (``auto_now`` / ``auto_now_add``: one ``now`` for the batch). Returns what
    ``RETURNING`` gave, in the order of ``rows``."""
    if not rows:
        return []
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    names = [str(field.attname) for field in fields]
    if unknown := set().union(*rows) - set(names):
        raise ValueError(f"{model.__name__} has no column {sorted(unknown)}")
    now = timezone.now()
    defaults = [
        now if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False) else field.get_default()
        for field in fields
    ]
    filled = [[row.get(name, default) for name, default in zip(names, defaults, strict=True)] for row in rows]
    return insert_rows(model, names, filled, returning=returning)


def insert_from(
    model: type[Model], fields: Sequence[str], rows: QuerySet[Any], *, ignore_conflicts: bool = False
) -> int:
    """Insert the rows ``rows`` selects into ``model``'s table in one statement; returns how many
    were written. The queryset's columns line up with ``fields`` by position (``values_list``
    selects in the order given, annotations included): give every column without a database
    default (``auto_now_add`` and Python-side defaults are not applied here). ``ignore_conflicts``
    skips the rows a unique constraint refuses (INSERT OR IGNORE on SQLite, ON CONFLICT DO NOTHING
    on PostgreSQL, as ``bulk_create`` does)."""
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


class AnyOf(In):
    """``field__any_of=values``: ``field__in=values`` for a batch's hundreds of plain values. On
    PostgreSQL they travel as one array (``field = ANY(%s)``) instead of one placeholder each,
    which Django compiles and the driver quotes value by value (measured: about 13 µs an order of
    a flash-sale batch went there); elsewhere it is ``IN``. Registered by core on every field
    and on foreign keys (``RelatedAnyOf``)."""

    lookup_name = "any_of"

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        if not self.rhs_is_direct_value():
            return self.as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        kind = self.lhs.output_field.db_type(connection)
        return f"{lhs} = ANY(%s::{kind}[])", (*lhs_params, [value for value in self.rhs if value is not None])


class RelatedAnyOf(AnyOf, RelatedIn):
    """``AnyOf`` on a foreign key (its ids prepared as ``__in`` prepares them)."""
