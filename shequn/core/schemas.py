"""Shared API schemas: the error body every route declares, and the page envelope for lists."""

from typing import Any, Generic, TypeVar

from django.db.models import QuerySet
from ninja import Schema
from pydantic import BaseModel

T = TypeVar("T")

MAX_PAGE_SIZE = 100


class ErrorOut(Schema):
    code: str  # stable machine code, e.g. "sold_out"
    message: str  # human message (zh-hans)
    details: dict[str, Any] | None = None


def error_responses(*statuses: int) -> dict[int, type[ErrorOut]]:
    """``response={200: X, **error_responses(401, 404)}`` declares the errors a route may return."""
    return dict.fromkeys(statuses, ErrorOut)


class Page(BaseModel, Generic[T]):
    items: list[T]
    count: int
    page: int
    page_size: int


def paginate(queryset: QuerySet[Any], page: int, page_size: int) -> dict[str, Any]:
    """Slice ``queryset`` into one page: {"items", "count", "page", "page_size"}."""
    page = max(1, page)
    page_size = max(1, min(MAX_PAGE_SIZE, page_size))
    start = (page - 1) * page_size
    return {
        "items": list(queryset[start : start + page_size]),
        "count": queryset.count(),
        "page": page,
        "page_size": page_size,
    }
