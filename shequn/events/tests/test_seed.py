"""The demo's events seed: a tasting day with RSVPs and a waitlist, a paid workshop; once only."""

import pytest

from shequn.demo.seed_events import TASTING_CAPACITY, seed_events
from shequn.events.models import Event, Registration

from .conftest import make_members

pytestmark = pytest.mark.django_db


def test_seed_events_creates_a_tasting_day_and_a_paid_workshop_once(shop, community, operator):
    make_members(community, 9)
    tasting, workshop = seed_events(shop, community, operator)
    assert (tasting.status, tasting.price_fen, tasting.capacity) == ("published", 0, TASTING_CAPACITY)
    statuses = list(Registration.objects.filter(event=tasting).values_list("status", flat=True))
    assert (statuses.count("confirmed"), statuses.count("waitlisted")) == (6, 2)
    assert (workshop.status, workshop.price_fen) == ("published", 6800)
    assert workshop.ticket_product is not None
    assert workshop.ticket_product.on_shelf is True
    assert seed_events(shop, community, operator) == [tasting, workshop]
    assert Event.objects.count() == 2
    assert Registration.objects.count() == 8
