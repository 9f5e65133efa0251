from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from shequn.events.enums import EventStatus, RegistrationStatus
from shequn.events.models import Event, Registration
from shequn.gate.engine import use_gate
from shequn.gate.local import LocalGate
from shequn.redpackets import actions
from shequn.redpackets.actions import PacketInput
from shequn.testing.factories import CommunityFactory, MembershipFactory, StaffFactory, UserFactory
from shequn.testing.two_shops import login, other_shop, shop

__all__ = ["login", "other_shop", "shop"]


@pytest.fixture(autouse=True)
def gate() -> Iterator[LocalGate]:
    """Every test starts with an empty in-process gate."""
    fresh = LocalGate()
    previous = use_gate(fresh)
    yield fresh
    use_gate(previous)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def commit(django_capture_on_commit_callbacks: Any) -> Callable[[], Any]:
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def owner(shop: Any) -> Any:
    return StaffFactory.create(shop=shop, role="owner").user


@pytest.fixture
def community(shop: Any) -> Any:
    return CommunityFactory.create(shop=shop, name="三文鱼爱好者群")


def member_of(community: Any, nickname: str) -> Any:
    user = UserFactory.create(nickname=nickname)
    MembershipFactory.create(community=community, user=user)
    return user


def make_event(shop: Any, community: Any) -> Event:
    now = timezone.now()
    return Event.objects.create(
        shop=shop,
        community=community,
        title="崇明农场一日游",
        venue="崇明有机农场",
        starts_at=now + timedelta(days=2),
        ends_at=now + timedelta(days=2, hours=4),
        capacity=30,
        status=EventStatus.PUBLISHED,
    )


def register(event: Event, user: Any, status: str = RegistrationStatus.CONFIRMED) -> Registration:
    return Registration.objects.create(event=event, user=user, status=status, checkin_token=f"t{user.pk}x{event.pk}")


def packet_input(community: Any = None, *, event: Any = None, **fields: Any) -> PacketInput:
    now = timezone.now()
    fields.setdefault("title", "新年红包")
    fields.setdefault("total_fen", 1000)
    fields.setdefault("count", 3)
    fields.setdefault("split", "random")
    fields.setdefault("starts_at", now - timedelta(seconds=1))
    fields.setdefault("expires_at", now + timedelta(hours=24))
    if event is not None:
        return PacketInput(audience="event", event_id=event.pk, **fields)
    return PacketInput(audience="community", community_id=community.pk, **fields)


def fund(shop: Any, owner: Any, commit: Any, community: Any = None, **fields: Any) -> Any:
    with commit():
        return actions.fund_packet(shop, owner, packet_input(community, **fields))
