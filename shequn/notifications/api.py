"""Inbox API for members: list (paginated), unread count, mark read."""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from shequn.core.schemas import PageQuery, error_responses, paginate

from . import actions, selectors
from .schemas import (
    MarkReadIn,
    MarkReadOut,
    NotificationPage,
    SubscribeResultsIn,
    SubscriptionsOut,
    TemplateKey,
    UnreadCountOut,
)

router = Router(tags=["notifications"])


@router.get("/", response={200: NotificationPage, **error_responses(401, 422)}, summary="The member's inbox")
def list_notifications(request: HttpRequest, params: Query[PageQuery]) -> dict[str, Any]:
    return paginate(selectors.inbox(request.user), params.page, params.page_size)


@router.get("/unread-count", response={200: UnreadCountOut, **error_responses(401)}, summary="Unread messages")
def unread_count(request: HttpRequest) -> dict[str, int]:
    return {"unread": selectors.unread_count(request.user)}


@router.post(
    "/read",
    response={200: MarkReadOut, **error_responses(401, 422)},
    summary="Mark messages read (all unread when no ids are given)",
)
def mark_read(request: HttpRequest, payload: MarkReadIn) -> dict[str, int]:
    marked = actions.mark_read(request.user, payload.ids)
    return {"marked": marked, "unread": selectors.unread_count(request.user)}


@router.get(
    "/subscriptions",
    response={200: SubscriptionsOut, **error_responses(401)},
    summary="WeChat subscribe message templates, with the member's consent to each",
)
def list_subscriptions(request: HttpRequest) -> dict[str, Any]:
    return {"items": selectors.subscriptions(request.user)}


@router.post(
    "/subscriptions",
    response={200: SubscriptionsOut, **error_responses(401, 422)},
    summary="Record what WeChat's subscribe dialog reported (template id → accept/reject/ban/filter)",
)
def record_subscriptions(request: HttpRequest, payload: SubscribeResultsIn) -> dict[str, Any]:
    actions.record_subscribe_results(request.user, payload.results)
    return {"items": selectors.subscriptions(request.user)}


@router.post(
    "/subscriptions/{template}/opt-out",
    response={200: SubscriptionsOut, **error_responses(401, 422)},
    summary="Stop one subscribe message template",
)
def opt_out_subscription(request: HttpRequest, template: TemplateKey) -> dict[str, Any]:
    actions.opt_out(request.user, template)
    return {"items": selectors.subscriptions(request.user)}
