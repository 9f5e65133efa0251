"""Member and console pages of events: RSVP, waitlist, QR ticket, check-in, tenancy."""

from datetime import timedelta

import pytest
from django.utils import timezone

from shequn.events import actions
from shequn.events.enums import EventStatus, RegistrationStatus
from shequn.events.models import Event, Registration
from shequn.events.views import ticket_qr_svg
from shequn.notifications.models import Notification
from shequn.testing.money import beside_input, keeps_typed_value, yuan_refusals

from .conftest import login, make_event

pytestmark = pytest.mark.django_db


def event_url(event) -> str:
    return f"/c/{event.community_id}/events/{event.pk}/"


def test_members_rsvp_wait_and_get_promoted_on_the_pages(event, members):
    first, second, third = (login(user) for user in members)
    listing = first.get(f"/c/{event.community_id}/events/")
    assert listing.status_code == 200
    assert "农场品鉴日" in listing.content.decode()

    assert first.post(event_url(event) + "rsvp/").status_code == 302
    second.post(event_url(event) + "rsvp/")
    page = third.get(event_url(event)).content.decode()
    assert "名额已满，加入候补" in page
    third.post(event_url(event) + "rsvp/")
    page = third.get(event_url(event)).content.decode()
    assert 'data-testid="waitlist-rank">1<' in page

    page = first.get(event_url(event)).content.decode()
    assert 'data-testid="ticket-qr"' in page
    qr = first.get(event_url(event) + "ticket.svg")
    assert (qr.status_code, qr["Content-Type"]) == (200, "image/svg+xml")
    ticket = Registration.objects.get(event=event, user=members[0])
    assert qr.content == ticket_qr_svg(actions.checkin_url(ticket))  # the QR holds the check-in URL
    assert third.get(event_url(event) + "ticket.svg").status_code == 404  # waitlisted: no ticket yet

    first.post(event_url(event) + "cancel/")
    assert Registration.objects.get(event=event, user=members[2]).status == RegistrationStatus.CONFIRMED
    assert 'data-testid="ticket-qr"' in third.get(event_url(event)).content.decode()
    mine = third.get("/me/events/").content.decode()
    assert "农场品鉴日" in mine
    assert "已确认" in mine


def test_non_members_and_strangers_get_404(event, outsider, shop, community):
    client = login(outsider)
    for url in (
        f"/c/{event.community_id}/events/",
        event_url(event),
        event_url(event) + "ticket.svg",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(event_url(event) + "rsvp/").status_code == 404
    assert not Registration.objects.exists()


def test_drafts_are_invisible_to_members(shop, community, members):
    draft = make_event(shop, community, publish=False)
    assert login(members[0]).get(event_url(draft)).status_code == 404


def test_staff_create_publish_and_see_attendees(console_client, community, members):
    starts = timezone.localtime(timezone.now() + timedelta(days=5)).replace(second=0, microsecond=0)
    form = {
        "community": community.pk,
        "title": "秋季品鉴日",
        "venue": "崇明有机农场",
        "address": "港沿镇 88 号",
        "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (starts + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
        "capacity": "1",
        "price": "",
        "reminder_hours": "24",
    }
    refused = console_client.post("/console/events/new/", {**form, "title": "", "capacity": "0"})
    assert refused.status_code == 422
    assert "请填写活动名称" in refused.content.decode()
    created = console_client.post("/console/events/new/", form)
    event = Event.objects.get(title="秋季品鉴日")
    assert created["Location"] == f"/console/events/{event.pk}/"
    assert (event.status, event.starts_at, event.capacity, event.price_fen) == ("draft", starts, 1, 0)
    console_client.post(f"/console/events/{event.pk}/publish/")
    event.refresh_from_db()
    assert event.status == EventStatus.PUBLISHED
    actions.do_rsvp(members[0], event)
    actions.do_rsvp(members[1], event)
    page = console_client.get(f"/console/events/{event.pk}/").content.decode()
    assert page.index("成员1") < page.index("成员2")
    assert 'data-testid="confirmed-count">1<' in page
    assert 'data-testid="waitlisted-count">1<' in page
    assert page.count('data-testid="manual-checkin"') == 1  # the confirmed member only


def test_check_in_from_the_qr_url_once(console_client, event, members, operator):
    registration = actions.do_rsvp(members[0], event)
    url = actions.checkin_url(registration)
    path = url.split("127.0.0.1:8000")[-1]
    assert path == f"/console/events/checkin/{registration.checkin_token}/"
    page = console_client.get(path)
    assert page.status_code == 200
    assert "成员1" in page.content.decode()
    first = console_client.post(path)
    assert "签到成功：成员1" in first.content.decode()
    registration.refresh_from_db()
    stamp = timezone.localtime(registration.checked_in_at)
    second = console_client.post(path)
    assert f"已签到（{stamp:%H:%M}）" in second.content.decode()
    registration.refresh_from_db()
    assert timezone.localtime(registration.checked_in_at) == stamp


def test_event_check_in_page_refuses_other_events_and_waitlisted(console_client, shop, community, event, members):
    for user in members:
        actions.do_rsvp(user, event)
    other = make_event(shop, community, title="另一场")
    confirmed = Registration.objects.get(event=event, user=members[0])
    waiting = Registration.objects.get(event=event, user=members[2])
    response = console_client.post(f"/console/events/{other.pk}/checkin/", {"token": confirmed.checkin_token})
    assert response.status_code == 409
    assert "这张票属于另一个活动「农场品鉴日」" in response.content.decode()
    response = console_client.post(f"/console/events/{event.pk}/checkin/", {"token": waiting.checkin_token})
    assert (response.status_code, "该报名候补中，不能签到" in response.content.decode()) == (409, True)
    # The whole URL pasted from a scanner works too.
    response = console_client.post(f"/console/events/{event.pk}/checkin/", {"token": actions.checkin_url(confirmed)})
    assert response.status_code == 200
    assert "签到成功：成员1" in response.content.decode()


def test_other_shops_staff_get_404(other_console_client, event, members):
    registration = actions.do_rsvp(members[0], event)
    for url in (
        f"/console/events/{event.pk}/",
        f"/console/events/{event.pk}/edit/",
        f"/console/events/{event.pk}/checkin/",
        f"/console/events/checkin/{registration.checkin_token}/",
    ):
        assert other_console_client.get(url).status_code == 404, url
    assert other_console_client.post(f"/console/events/{event.pk}/cancel/").status_code == 404
    assert other_console_client.post(f"/console/events/checkin/{registration.checkin_token}/").status_code == 404
    registration.refresh_from_db()
    assert registration.checked_in_at is None
    assert Event.objects.get(pk=event.pk).status == EventStatus.PUBLISHED


def test_staff_cancel_tells_members(console_client, event, members):
    actions.do_rsvp(members[0], event)
    console_client.post(f"/console/events/{event.pk}/cancel/", {"reason": "暴雨"})
    assert Event.objects.get(pk=event.pk).status == EventStatus.CANCELLED
    assert Notification.objects.get(user=members[0], kind="events.cancelled").title == "活动取消：农场品鉴日"
    page = login(members[0]).get(event_url(event)).content.decode()
    assert "活动已取消" in page


def test_staff_create_a_paid_chapter_event_and_edit_it(console_client, shop, community):
    from shequn.communities.enums import SubGroupKind
    from shequn.communities.models import SubGroup

    chapter = SubGroup.objects.create(community=community, name="杭州分会", kind=SubGroupKind.CHAPTER, city="杭州")
    starts = timezone.localtime(timezone.now() + timedelta(days=7)).replace(second=0, microsecond=0)
    form = {
        "community": community.pk,
        "sub_group": chapter.pk,
        "title": "果酱工坊",
        "venue": "西溪活动室",
        "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (starts + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "capacity": "12",
        "price": "68",
        "reminder_hours": "24",
    }
    assert "杭州分会" in console_client.get("/console/events/new/").content.decode()
    console_client.post("/console/events/new/", form)
    event = Event.objects.get(title="果酱工坊")
    assert (event.sub_group, event.price_fen, event.capacity) == (chapter, 6800, 12)
    assert event.ticket_product is not None
    assert event.ticket_product.on_shelf is False  # on sale once published
    edit = console_client.get(f"/console/events/{event.pk}/edit/").content.decode()
    assert 'value="68.00"' in edit
    saved = console_client.post(f"/console/events/{event.pk}/edit/", {**form, "capacity": "20", "price": "58"})
    assert saved["Location"] == f"/console/events/{event.pk}/"
    console_client.post(f"/console/events/{event.pk}/publish/")
    event.refresh_from_db()
    assert (event.capacity, event.price_fen, event.status) == (20, 5800, "published")
    assert event.ticket_product is not None
    sku = event.ticket_product.skus.get()
    assert (sku.price_fen, sku.stock, event.ticket_product.on_shelf) == (5800, 20, True)
    listing = console_client.get("/console/events/").content.decode()
    assert "果酱工坊" in listing
    assert "杭州分会" in listing


def _event_form(community) -> dict:
    starts = timezone.localtime(timezone.now() + timedelta(days=5)).replace(second=0, microsecond=0)
    return {
        "community": community.pk,
        "title": "春茶品鉴",
        "venue": "茶园",
        "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (starts + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "capacity": "10",
        "reminder_hours": "24",
    }


@pytest.mark.parametrize(("typed", "message"), yuan_refusals(max_fen=actions.PRICE_MAX_FEN))
def test_a_ticket_price_that_cannot_be_read_is_an_error_beside_the_field(console_client, community, typed, message):
    response = console_client.post("/console/events/new/", {**_event_form(community), "price": typed})
    assert response.status_code == 422
    page = response.content.decode()
    assert message in beside_input(page, "price")
    assert keeps_typed_value(page, "price", typed)
    assert 'value="春茶品鉴"' in page  # nothing typed is lost
    assert not Event.objects.exists()


def test_a_ticket_price_in_yuan_is_saved_in_fen(console_client, community):
    console_client.post("/console/events/new/", {**_event_form(community), "price": "35.90"})
    event = Event.objects.get(title="春茶品鉴")
    assert event.price_fen == 3590
    assert 'value="35.90"' in console_client.get(f"/console/events/{event.pk}/edit/").content.decode()
