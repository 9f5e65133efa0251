"""Shared API schemas: the error body every route declares, the page envelope for lists, and the
bounded input types every schema and path/query parameter uses.

The input types exist because the databases are stricter than Python: SQLite and PostgreSQL
cannot hold an integer past 64 bits, a ``PositiveIntegerField`` stops at 2,147,483,647 on
PostgreSQL, and PostgreSQL refuses a NUL character in text. A value the columns cannot hold is
refused at the door with a 422 naming the field, never by the database with a 500.
"""

import unicodedata
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import AfterValidator, BaseModel, Field

T = TypeVar("T")

MAX_PAGE_SIZE = 100
# Deep enough for any real list (10 million rows at 100 a page), small enough that the offset
# ((page - 1) * page_size) always fits an SQL integer.
MAX_PAGE = 100_000

# Column bounds (the same on SQLite and PostgreSQL; Django's integer ranges).
BIGINT_MAX = 9_223_372_036_854_775_807  # BigAutoField primary keys and foreign keys
POSITIVE_INT_MAX = 2_147_483_647  # PositiveIntegerField: prices in fen, stock, positions
POSITIVE_SMALL_INT_MAX = 32_767  # PositiveSmallIntegerField: days, hours, team sizes
# How many units of one SKU a single cart line, order or sign-up may ask for.
MAX_QUANTITY = 9_999

# Line breaks and tabs belong in multi-line text (descriptions, articles, notes); no other control
# character (NUL above all: PostgreSQL refuses it) belongs in anything a person typed.
_MULTILINE_ALLOWED = frozenset("\n\r\t")


def _refuse_control_characters(value: str, allowed: frozenset[str]) -> str:
    for character in value:
        # Cc: control characters (NUL, ESC …); Cs: lone surrogates, which no database can store.
        if character not in allowed and unicodedata.category(character) in {"Cc", "Cs"}:
            raise ValueError(_("不能包含控制字符 (U+%(code)s)") % {"code": f"{ord(character):04X}"})
    return value


# The days and moments a client may name. Nothing a shop schedules or looks up lies outside them,
# and inside them every engine can store a moment and Python can move it between time zones
# (year 1 at +08:00 is year 0 in UTC, which Python cannot hold).
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2099, 12, 31)


def _day(value: date) -> date:
    if not EARLIEST_DAY <= value <= LATEST_DAY:
        raise ValueError(
            _("日期须在 %(earliest_day)s 到 %(latest_day)s 之间")
            % {"earliest_day": EARLIEST_DAY, "latest_day": LATEST_DAY}
        )
    return value


EARLIEST_BIRTHDAY = date(1900, 1, 1)


def _birthday(value: date) -> date:
    """A person's birthday: from 1900, never in the future."""
    if not EARLIEST_BIRTHDAY <= value <= timezone.localdate():
        raise ValueError(_("请填写正确的生日"))
    return value


def _moment(value: datetime) -> datetime:
    """An aware moment in UTC: PostgreSQL refuses UTC offsets past ±15:59 (Python allows ±23:59)."""
    _day(value.date())
    if timezone.is_naive(value):
        value = timezone.make_aware(value)  # in the current time zone, as the actions would
    return value.astimezone(UTC)


def _clock_time(value: time) -> time:
    """A time of day on the shop's clock: an offset would make it a moment without a day."""
    if value.tzinfo is not None:
        raise ValueError(_("请填写当地时间（如 09:00），不带时区"))
    return value


def _single_line(value: str) -> str:
    return _refuse_control_characters(value, frozenset())


def _multi_line(value: str) -> str:
    return _refuse_control_characters(value, _MULTILINE_ALLOWED)


# --- bounded input types: use these, never a bare int or str, in anything a client sends -----

# A primary or foreign key (BigAutoField); path, query and body alike.
Id = Annotated[int, Field(ge=1, le=BIGINT_MAX)]
# Money in integer fen, as stored in a PositiveIntegerField.
Fen = Annotated[int, Field(ge=0, le=POSITIVE_INT_MAX)]
# Units of a SKU in one line.
Quantity = Annotated[int, Field(ge=1, le=MAX_QUANTITY)]
# A non-negative count stored in a PositiveIntegerField (stock, capacity, position, caps).
Count = Annotated[int, Field(ge=0, le=POSITIVE_INT_MAX)]
# A non-negative count stored in a PositiveSmallIntegerField (days, hours, team sizes).
SmallCount = Annotated[int, Field(ge=0, le=POSITIVE_SMALL_INT_MAX)]
# A change to a PositiveIntegerField (stock moved by +n or -n).
Delta = Annotated[int, Field(ge=-POSITIVE_INT_MAX, le=POSITIVE_INT_MAX)]
# Coordinates as stored in DecimalField(max_digits=9, decimal_places=6); NaN and infinity refused.
Latitude = Annotated[Decimal, Field(ge=-90, le=90, max_digits=9, decimal_places=6, allow_inf_nan=False)]
Longitude = Annotated[Decimal, Field(ge=-180, le=180, max_digits=9, decimal_places=6, allow_inf_nan=False)]
# A calendar day, and a moment (naive ones are taken in the shop's time zone), 2000 to 2099.
Day = Annotated[date, AfterValidator(_day)]
Moment = Annotated[datetime, AfterValidator(_moment)]
# A person's birthday (1900 to today).
Birthday = Annotated[date, AfterValidator(_birthday)]
# A time of day on the shop's clock ("09:00"), never with an offset.
ClockTime = Annotated[time, AfterValidator(_clock_time)]
# One line of text: names, titles, codes, slugs, search words. Give it a max_length matching its
# column with ``Field(max_length=…)`` where it is stored.
Text = Annotated[str, AfterValidator(_single_line)]
# Text that may span lines: descriptions, article bodies, notes, reasons.
MultilineText = Annotated[str, AfterValidator(_multi_line)]
# A search box.
SearchText = Annotated[str, Field(max_length=100), AfterValidator(_single_line)]


class ErrorOut(Schema):
    code: str  # stable machine code, e.g. "sold_out"
    message: str  # human message (zh-hans)
    details: dict[str, Any] | None = None


def error_responses(*statuses: int) -> dict[int, type[ErrorOut]]:
    """``response={200: X, **error_responses(401, 404)}`` declares the errors a route may return."""
    return dict.fromkeys(statuses, ErrorOut)


class PageQuery(Schema):
    """``?page=&page_size=`` of every list; subclass it to add a list's filters."""

    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(20, ge=1, le=MAX_PAGE_SIZE)


class Page(BaseModel, Generic[T]):
    items: list[T]
    count: int
    page: int
    page_size: int


def paginate(queryset: QuerySet[Any], page: int, page_size: int) -> dict[str, Any]:
    """Slice ``queryset`` into one page: {"items", "count", "page", "page_size"}.

    The bounds repeat PageQuery's so a caller that skipped it still cannot ask the database
    for an offset it cannot hold.
    """
    page = max(1, min(MAX_PAGE, page))
    page_size = max(1, min(MAX_PAGE_SIZE, page_size))
    start = (page - 1) * page_size
    return {
        "items": list(queryset[start : start + page_size]),
        "count": queryset.count(),
        "page": page,
        "page_size": page_size,
    }
