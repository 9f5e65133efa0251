"""Allowed moves of a member coupon; ``issue_rows`` writes new coupons in their first status and
``move`` is the only writer of the status afterwards, conditional on the old one, set-based (one
UPDATE … RETURNING and one INSERT of history rows, however many coupons), so a caller that gives a
coupon back or takes it does so exactly once."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import CharField, DateTimeField, Value

from shequn.core.sql import insert_from, insert_rows

from .enums import CouponStatus
from .models import CouponEvent, MemberCoupon

S = CouponStatus

TRANSITIONS: dict[str, frozenset[str]] = {
    S.CLAIMED: frozenset({S.USED, S.EXPIRED}),
    S.USED: frozenset({S.RETURNED, S.EXPIRED}),  # its order was cancelled or refunded in full
    S.RETURNED: frozenset({S.USED, S.EXPIRED}),
    S.EXPIRED: frozenset(),
}


def _from_statuses(to_status: str) -> list[str]:
    return [status for status, targets in TRANSITIONS.items() if to_status in targets]


def move(
    ids: Sequence[int], to_status: str, *, note: str, now: datetime, still_valid: bool | None = None, **fields: Any
) -> list[int]:
    """Move the coupons of ``ids`` whose status allows ``to_status`` (and, when ``still_valid`` is
    given, whose validity still runs at ``now`` or has ended); returns the ids moved, each with a
    history row. Others are left as they are (another writer moved them first)."""
    if not ids:
        return []
    quote = connection.ops.quote_name
    table = quote(MemberCoupon._meta.db_table)
    columns = {field.name: str(field.column) for field in MemberCoupon._meta.concrete_fields}
    assignments = [f"{quote('status')} = %s"] + [f"{quote(columns[name])} = %s" for name in fields]
    params: list[Any] = [to_status, *fields.values()]
    sources = _from_statuses(to_status)
    where = (
        f"{quote('id')} IN ({', '.join(['%s'] * len(ids))})"
        f" AND {quote('status')} IN ({', '.join(['%s'] * len(sources))})"
    )
    params += [*ids, *sources]
    if still_valid is not None:
        where += f" AND {quote('valid_until')} {'>' if still_valid else '<='} %s"
        params.append(now)
    # Table and column names come from the model; every value is a parameter.
    sql = f"UPDATE {table} SET {', '.join(assignments)} WHERE {where} RETURNING {quote('id')}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        moved = sorted(row[0] for row in cursor.fetchall())
    insert_rows(
        CouponEvent, ("coupon", "status", "note", "created_at"), [(pk, to_status, note[:255], now) for pk in moved]
    )
    return moved


def record_issued(coupons: Any, *, note: str, now: datetime) -> None:
    """The first history row of coupons just written in their first status (``coupons``: a
    queryset of them, copied by one INSERT … SELECT, or a list of instances)."""
    if isinstance(coupons, list):
        insert_rows(
            CouponEvent,
            ("coupon", "status", "note", "created_at"),
            [(coupon.pk, coupon.status, note[:255], now) for coupon in coupons],
        )
        return
    insert_from(
        CouponEvent,
        ["coupon_id", "status", "note", "created_at"],
        coupons.values_list(
            "pk", "status", Value(note[:255], output_field=CharField()), Value(now, output_field=DateTimeField())
        ),
    )
