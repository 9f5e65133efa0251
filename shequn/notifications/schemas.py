from datetime import datetime

from ninja import Schema

from shequn.core.schemas import Id


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    link: str
    created_at: datetime
    read_at: datetime | None


class NotificationPage(Schema):
    items: list[NotificationOut]
    count: int
    page: int
    page_size: int


class UnreadCountOut(Schema):
    unread: int


class MarkReadIn(Schema):
    ids: list[Id] | None = None  # omit to mark every unread message read


class MarkReadOut(Schema):
    marked: int
    unread: int
