"""Free events: RSVP, waitlist, promotion on cancellation, reminders and check-in (actions)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from shequn.core.models import AuditLog
from shequn.events import actions, selectors
from shequn.events.enums import EventStatus, RegistrationStatus
from shequn.events.errors import CannotCancel, CheckInRefused, EventNotFound, RegistrationClosed, TicketNotFound
from shequn.events.models import Event, Registration
from shequn.notifications.models import Notification
from shequn.testing.payments import run_scheduled_tasks

from .conftest import make_event, make_members

pytestmark = pytest.mark.django_db


def test_done_when_capacity_two_three_rsvps_cancel_promotes_and_check_in_counts_once(shop, event, members, operator):
    first, second, third = members
    assert actions.do_rsvp(first, event).status == RegistrationStatus.CONFIRMED
    assert actions.do_rsvp(second, event).status == RegistrationStatus.CONFIRMED
    waiting = actions.do_rsvp(third, event)
    assert (waiting.status, selectors.waitlist_rank(waiting)) == (RegistrationStatus.WAITLISTED, 1)
    event.refresh_from_db()
    assert (event.confirmed_count, selectors.seats_left(event)) == (2, 0)

    cancelled = actions.do_cancel_registration(first, event)
    assert cancelled.status == RegistrationStatus.CANCELLED
    waiting.refresh_from_db()
    assert waiting.status == RegistrationStatus.CONFIRMED
    event.refresh_from_db()
    assert event.confirmed_count == 2
    told = Notification.objects.get(user=third, kind="events.promoted")
    assert told.title == "候补成功：农场品鉴日"
    assert told.link == f"/c/{event.community_id}/events/{event.pk}/"

    ticket = selectors.access_registration_by_token(shop, waiting.checkin_token)
    checked, newly = actions.do_check_in(shop, ticket, event=event, actor=operator)
    assert newly is True
    assert actions.check_in_message(checked, newly) == "签到成功：成员3"
    again, newly_again = actions.do_check_in(shop, ticket, event=event, actor=operator)
    assert newly_again is False
    assert again.checked_in_at == checked.checked_in_at
    local = timezone.localtime(checked.checked_in_at)
    assert actions.check_in_message(again, newly_again) == f"已签到（{local:%H:%M}）"
    assert AuditLog.objects.filter(action="events.check_in").count() == 1


def test_a_second_tap_returns_the_same_registration(event, members):
    first = actions.do_rsvp(members[0], event)
    assert actions.do_rsvp(members[0], event).pk == first.pk
    assert Registration.objects.filter(event=event).count() == 1
    event.refresh_from_db()
    assert event.confirmed_count == 1


def test_waitlist_keeps_order_and_rsvp_again_after_cancelling(community, event, members):
    later = make_members(community, 2, prefix="候补")
    for user in members:
        actions.do_rsvp(user, event)
    queue = [actions.do_rsvp(user, event) for user in later]
    queue.insert(0, Registration.objects.get(event=event, user=members[2]))
    assert [selectors.waitlist_rank(row) for row in queue] == [1, 2, 3]
    actions.do_cancel_registration(later[0], event)  # the second in line leaves
    assert selectors.waitlist_rank(Registration.objects.get(event=event, user=later[1], status="waitlisted")) == 2
    # Back again: a new row at the end of the line, the old one kept as history.
    back = actions.do_rsvp(later[0], event)
    assert (back.status, selectors.waitlist_rank(back)) == (RegistrationStatus.WAITLISTED, 3)
    assert Registration.objects.filter(event=event, user=later[0]).count() == 2


def test_non_member_and_closed_events_are_refused(shop, community, event, outsider, members):
    with pytest.raises(EventNotFound):
        actions.do_rsvp(outsider, event)
    draft = make_event(shop, community, publish=False)
    with pytest.raises(RegistrationClosed, match="活动尚未开放报名"):
        actions.do_rsvp(members[0], draft)
    past_deadline = make_event(shop, community, rsvp_deadline=timezone.now() + timedelta(hours=1))
    with (
        time_machine.travel(timezone.now() + timedelta(hours=2)),
        pytest.raises(RegistrationClosed, match="报名已截止"),
    ):
        actions.do_rsvp(members[0], past_deadline)
    actions.do_rsvp(members[1], event)
    with time_machine.travel(event.starts_at + timedelta(minutes=1)):
        with pytest.raises(CannotCancel, match="活动已开始，不能取消报名"):
            actions.do_cancel_registration(members[1], event)
        with pytest.raises(RegistrationClosed, match="活动已开始，报名已截止"):
            actions.do_rsvp(members[0], event)


def test_waitlisted_cancelled_and_foreign_tickets_cannot_check_in(
    shop, other_shop, community, event, members, operator
):
    for user in members:
        actions.do_rsvp(user, event)
    waiting = Registration.objects.get(event=event, user=members[2])
    with pytest.raises(CheckInRefused, match="该报名候补中，不能签到"):
        actions.do_check_in(shop, waiting, event=event, actor=operator)
    actions.do_cancel_registration(members[0], event)
    gone = Registration.objects.get(event=event, user=members[0])
    with pytest.raises(CheckInRefused, match="该报名已取消，不能签到"):
        actions.do_check_in(shop, gone, event=event, actor=operator)
    other_event = make_event(shop, community, title="第二场")
    confirmed = Registration.objects.get(event=event, user=members[1])
    with pytest.raises(CheckInRefused, match="这张票属于另一个活动「农场品鉴日」"):
        actions.do_check_in(shop, confirmed, event=other_event, actor=operator)
    with pytest.raises(TicketNotFound):
        selectors.access_registration_by_token(other_shop, confirmed.checkin_token)
    assert not Registration.objects.filter(checked_in_at__isnull=False).exists()


def test_reminder_goes_to_confirmed_attendees_exactly_once(
    shop, community, members, django_capture_on_commit_callbacks
):
    starts_at = timezone.now() + timedelta(days=2)
    with django_capture_on_commit_callbacks(execute=True):
        event = make_event(shop, community, starts_at=starts_at)
    for user in members:
        actions.do_rsvp(user, event)  # two confirmed, one waitlisted
    assert actions.send_due_reminders() == 0  # not due yet
    with time_machine.travel(starts_at - timedelta(hours=23)):
        assert run_scheduled_tasks() == 1  # the ETA task
        assert run_scheduled_tasks() == 0
        assert actions.send_due_reminders() == 0  # the sweeper finds nothing left
        assert actions.do_send_reminders(event.pk) == 0
    reminders = Notification.objects.filter(kind="events.reminder")
    assert sorted(reminders.values_list("user__nickname", flat=True)) == ["成员1", "成员2"]
    assert reminders.earliest("id").title == "活动提醒：农场品鉴日"
    event.refresh_from_db()
    assert event.reminder_sent_at is not None


def test_sweeper_sends_a_missed_reminder_once(shop, community, members):
    starts_at = timezone.now() + timedelta(days=2)
    event = make_event(shop, community, starts_at=starts_at, reminder_hours=6)
    actions.do_rsvp(members[0], event)
    with time_machine.travel(starts_at - timedelta(hours=7)):
        assert actions.send_due_reminders() == 0
    with time_machine.travel(starts_at - timedelta(hours=5)):
        assert actions.send_due_reminders() == 1
        assert actions.send_due_reminders() == 0
    assert Notification.objects.filter(kind="events.reminder", user=members[0]).count() == 1


def test_cancelling_an_event_tells_everyone_signed_up(shop, event, members, operator):
    for user in members:
        actions.do_rsvp(user, event)
    actions.do_cancel_event(shop, event, actor=operator, reason="台风预警")
    event.refresh_from_db()
    assert event.status == EventStatus.CANCELLED
    assert set(Registration.objects.filter(event=event).values_list("status", flat=True)) == {"cancelled"}
    told = Notification.objects.filter(kind="events.cancelled")
    assert told.count() == 3
    assert "台风预警" in told.earliest("id").body
    assert AuditLog.objects.get(action="events.event_cancelled").detail["told"] == 3


def test_raising_capacity_promotes_the_waitlist(shop, event, members, operator, community):
    for user in members:
        actions.do_rsvp(user, event)
    data = actions.EventInput(
        title=event.title, venue=event.venue, starts_at=event.starts_at, ends_at=event.ends_at, capacity=3
    )
    actions.do_update_event(shop, event, data, actor=operator)
    assert Registration.objects.get(event=event, user=members[2]).status == RegistrationStatus.CONFIRMED
    assert Event.objects.get(pk=event.pk).confirmed_count == 3
    data.capacity = 2
    with pytest.raises(Exception, match="已有 3 人确认参加"):
        actions.do_update_event(shop, event, data, actor=operator)


def test_django_admin_lists_events_for_platform_staff(admin_client, event, members):
    actions.do_rsvp(members[0], event)
    registration = Registration.objects.get()
    for path in (
        "/admin/events/event/",
        f"/admin/events/event/{event.pk}/change/",
        "/admin/events/registration/",
        f"/admin/events/registration/{registration.pk}/change/",
    ):
        response = admin_client.get(path)
        assert response.status_code == 200, path
        assert registration.checkin_token not in response.content.decode()
