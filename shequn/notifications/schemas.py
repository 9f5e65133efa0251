from datetime import datetime
from typing import Annotated, Literal

from ninja import Schema
from pydantic import Field

from shequn.core.schemas import Id, Text


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


SubscribeResult = Literal["accept", "reject", "cancel", "ban", "filter"]
TemplateKey = Literal["order_paid", "order_shipped", "pickup_ready", "flashsale_started", "refund_done"]


class SubscribeResultsIn(Schema):
    # What the wx-open-subscribe tag's success event reported: template id → its status.
    results: dict[Annotated[Text, Field(max_length=64)], SubscribeResult] = Field(max_length=10)


class SubscriptionOut(Schema):
    template: str
    label: str
    template_id: str  # what the page asks WeChat's subscribe dialog for
    accepted: bool


class SubscriptionsOut(Schema):
    items: list[SubscriptionOut]
