"""The events API: members-only reads and writes, RSVP and waitlist, tickets, and the operator
endpoints (CRUD, attendees, check-in) scoped to the caller's shop."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from shequn.core.models import AuditLog
from shequn.events import actions
from shequn.events.models import Event, Registration
from shequn.testing.factories import CommunityFactory

from .conftest import api_client, make_event

pytestmark = pytest.mark.django_db

BASE = "/api/v1/events"
JSON = "application/json"


def event_api(event) -> str:
    return f"{BASE}/communities/{event.community_id}/events/{event.pk}"


def test_members_rsvp_wait_cancel_and_fetch_tickets(event, members):
    first, second, third = (api_client(user) for user in members)
    listing = first.get(f"{BASE}/communities/{event.community_id}/events").json()
    assert (listing["count"], listing["items"][0]["title"], listing["items"][0]["seats_left"]) == (1, "农场品鉴日", 2)
    assert first.post(f"{event_api(event)}/rsvp").json()["status"] == "confirmed"
    assert first.post(f"{event_api(event)}/rsvp").json()["status"] == "confirmed"  # a repeat is the same row
    assert second.post(f"{event_api(event)}/rsvp").json()["status"] == "confirmed"
    waiting = third.post(f"{event_api(event)}/rsvp").json()
    assert (waiting["status"], waiting["waitlist_rank"]) == ("waitlisted", 1)
    detail = third.get(event_api(event)).json()
    assert (detail["seats_left"], detail["waitlist_count"], detail["my_registration"]["status"]) == (0, 1, "waitlisted")
    refused = third.get(f"{event_api(event)}/ticket")
    assert (refused.status_code, refused.json()["code"]) == (404, "registration_not_found")

    assert first.post(f"{event_api(event)}/cancel").json()["status"] == "cancelled"
    ticket = third.get(f"{event_api(event)}/ticket").json()
    registration = Registration.objects.get(event=event, user=members[2], status="confirmed")
    assert ticket["checkin_url"] == f"http://127.0.0.1:8000/console/events/checkin/{registration.checkin_token}/"
    assert ticket["registration"]["status"] == "confirmed"
    mine = third.get(f"{BASE}/mine").json()
    assert [(row["title"], row["registration"]["status"]) for row in mine["items"]] == [("农场品鉴日", "confirmed")]
    again = first.post(f"{event_api(event)}/cancel")
    assert (again.status_code, again.json()["code"]) == (404, "registration_not_found")


def test_non_members_get_404_everywhere(event, outsider):
    client = api_client(outsider)
    for method, path in (
        ("get", f"{BASE}/communities/{event.community_id}/events"),
        ("get", event_api(event)),
        ("post", f"{event_api(event)}/rsvp"),
        ("post", f"{event_api(event)}/cancel"),
        ("get", f"{event_api(event)}/ticket"),
    ):
        response = getattr(client, method)(path)
        assert (response.status_code, response.json()["code"]) == (404, "event_not_found"), path
    assert not Registration.objects.exists()


def test_closed_registration_is_409(shop, community, members):
    event = make_event(shop, community, rsvp_deadline=timezone.now() + timedelta(hours=1))
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        response = api_client(members[0]).post(f"{event_api(event)}/rsvp")
    assert (response.status_code, response.json()) == (
        409,
        {"code": "registration_closed", "message": "报名已截止"},
    )


def test_operator_creates_publishes_lists_attendees_and_checks_in(operator, community, members):
    client = api_client(operator)
    starts_at = timezone.now() + timedelta(days=4)
    body = {
        "community_id": community.pk,
        "title": "草莓采摘",
        "venue": "崇明有机农场",
        "starts_at": starts_at.isoformat(),
        "ends_at": (starts_at + timedelta(hours=2)).isoformat(),
        "capacity": 1,
    }
    bad = client.post(f"{BASE}/console/events", {**body, "title": "", "capacity": 0}, content_type=JSON)
    assert bad.status_code == 422
    assert bad.json()["details"]["fields"] == {"title": "请填写活动名称", "capacity": "名额需在 1 到 100000 之间"}
    created = client.post(f"{BASE}/console/events", body, content_type=JSON)
    assert created.status_code == 201
    event_id = created.json()["id"]
    assert created.json()["status"] == "draft"
    assert client.post(f"{BASE}/console/events/{event_id}/publish").json()["status"] == "published"
    twice = client.post(f"{BASE}/console/events/{event_id}/publish")
    assert (twice.status_code, twice.json()["code"]) == (409, "invalid_event_transition")

    event = Event.objects.get(pk=event_id)
    for user in members:
        actions.do_rsvp(user, event)
    attendees = client.get(f"{BASE}/console/events/{event_id}/attendees").json()
    assert [(row["name"], row["status"], row["position"]) for row in attendees["items"]] == [
        ("成员1", "confirmed", None),
        ("成员2", "waitlisted", 1),
        ("成员3", "waitlisted", 2),
    ]
    page = client.get(f"{BASE}/console/events/{event_id}/attendees?status=waitlisted&page=2&page_size=1").json()
    assert (page["count"], [row["name"] for row in page["items"]]) == (2, ["成员3"])

    token = Registration.objects.get(event=event, user=members[0]).checkin_token
    first = client.post(f"{BASE}/console/events/{event_id}/checkin", {"token": token}, content_type=JSON).json()
    assert (first["newly_checked_in"], first["message"]) == (True, "签到成功：成员1")
    second = client.post(f"{BASE}/console/events/{event_id}/checkin", {"token": token}, content_type=JSON).json()
    stamp = timezone.localtime(Registration.objects.get(checkin_token=token).checked_in_at)
    assert (second["newly_checked_in"], second["message"]) == (False, f"已签到（{stamp:%H:%M}）")
    waitlisted = Registration.objects.get(event=event, user=members[1]).checkin_token
    refused = client.post(f"{BASE}/console/events/{event_id}/checkin", {"token": waitlisted}, content_type=JSON)
    assert (refused.status_code, refused.json()["message"]) == (409, "该报名候补中，不能签到")

    edited = client.put(f"{BASE}/console/events/{event_id}", {**body, "capacity": 2}, content_type=JSON).json()
    assert (edited["capacity"], edited["confirmed_count"], edited["waitlisted_count"]) == (2, 2, 1)
    cancelled = client.post(f"{BASE}/console/events/{event_id}/cancel", {"reason": "下雨"}, content_type=JSON)
    assert cancelled.json()["status"] == "cancelled"
    assert list(AuditLog.objects.filter(shop=event.shop).order_by("id").values_list("action", flat=True)) == [
        "events.event_created",
        "events.event_published",
        "events.check_in",
        "events.event_updated",
        "events.event_cancelled",
    ]


def test_other_shops_operator_gets_404(other_operator, other_shop, event, members):
    token = actions.do_rsvp(members[0], event).checkin_token
    client = api_client(other_operator)
    edit = {
        "title": "x",
        "venue": "y",
        "starts_at": event.starts_at.isoformat(),
        "ends_at": event.ends_at.isoformat(),
        "capacity": 9,
    }
    for method, path, body in (
        ("get", f"{BASE}/console/events/{event.pk}", None),
        ("put", f"{BASE}/console/events/{event.pk}", edit),
        ("post", f"{BASE}/console/events/{event.pk}/publish", None),
        ("post", f"{BASE}/console/events/{event.pk}/cancel", {}),
        ("get", f"{BASE}/console/events/{event.pk}/attendees", None),
        ("post", f"{BASE}/console/events/{event.pk}/checkin", {"token": token}),
    ):
        kwargs = {"data": body, "content_type": JSON} if body is not None else {}
        response = getattr(client, method)(path, **kwargs)
        assert (response.status_code, response.json()["code"]) == (404, "event_not_found"), path
    assert client.get(f"{BASE}/console/events").json()["count"] == 0
    # This shop's ticket at the other shop's own event: the token looks absent there.
    other_community = CommunityFactory.create(shop=other_shop)
    theirs = make_event(other_shop, other_community)
    response = client.post(f"{BASE}/console/events/{theirs.pk}/checkin", {"token": token}, content_type=JSON)
    assert (response.status_code, response.json()["code"]) == (404, "ticket_not_found")
    assert Registration.objects.get(checkin_token=token).checked_in_at is None
    assert Event.objects.get(pk=event.pk).status == "published"


def test_every_events_route_declares_errors(db):
    schema = Client().get("/api/v1/openapi.json").json()
    paths = [path for path in schema["paths"] if path.startswith(f"{BASE}/")]
    assert len(paths) >= 10
    for path in paths:
        for method, operation in schema["paths"][path].items():
            codes = {int(code) for code in operation["responses"]}
            expected = {401, 422} if path == f"{BASE}/mine" else {401, 404, 422}
            assert expected <= codes, (method, path)


def test_my_events_need_sign_in(db):
    response = Client().get(f"{BASE}/mine")
    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")
