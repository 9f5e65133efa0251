from datetime import timedelta

import pytest
from django.utils import timezone

from shequn.events import actions
from shequn.events.models import Event
from shequn.testing.community import api_client, community, make_members, member, other_member, outsider
from shequn.testing.two_shops import (
    console_client,
    login,
    operator,
    other_console_client,
    other_operator,
    other_shop,
    shop,
)

__all__ = [
    "api_client",
    "community",
    "console_client",
    "login",
    "make_members",
    "member",
    "operator",
    "other_console_client",
    "other_member",
    "other_operator",
    "other_shop",
    "outsider",
    "shop",
]


@pytest.fixture
def members(community):
    return make_members(community, 3)


def event_input(**overrides) -> actions.EventInput:
    starts_at = overrides.pop("starts_at", timezone.now() + timedelta(days=3))
    fields = {
        "title": "农场品鉴日",
        "venue": "崇明有机农场",
        "address": "上海市崇明区港沿镇 88 号",
        "description": "品尝当季蔬果",
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(hours=4),
        "capacity": 2,
        "price_fen": 0,
    }
    fields.update(overrides)
    return actions.EventInput(**fields)


def make_event(shop, community, actor=None, *, publish: bool = True, **overrides) -> Event:
    event = actions.do_create_event(shop, community, event_input(**overrides), actor=actor)
    if publish:
        event = actions.do_publish_event(shop, event, actor=actor)
    return Event.objects.select_related("community", "shop").get(pk=event.pk)


@pytest.fixture
def event(shop, community, operator):
    return make_event(shop, community, operator)
