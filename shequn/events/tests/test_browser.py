"""In Chromium: a member RSVPs to the last seat, another joins the waitlist, the first cancels and
the second finds their ticket QR; staff open the URL the QR holds and check them in, once."""

import os
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from shequn.events import actions
from shequn.events.models import Registration
from shequn.notifications.models import Notification
from shequn.shops.enums import StaffRole
from shequn.testing.factories import CommunityFactory, MembershipFactory, ShopFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOTS = os.environ.get("SHEQUN_SCREENSHOTS")  # a folder to keep screenshots in, for a look


def shot(page, name):
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"events-{name}.png"), full_page=True)


def test_waitlist_promotion_ticket_qr_and_check_in_at_the_door(signed_in_page):
    shop = ShopFactory.create(slug="chongming", name="崇明有机农场")
    operator = StaffFactory.create(shop=shop, role=StaffRole.OPERATOR).user
    community = CommunityFactory.create(shop=shop, name="崇明农场会员群", invite_code="chongming-2026")
    early, late = UserFactory.create(nickname="小王"), UserFactory.create(nickname="老李")
    for user in (early, late):
        MembershipFactory.create(community=community, user=user)
    starts_at = timezone.now() + timedelta(days=3)
    event = actions.do_publish_event(
        shop,
        actions.do_create_event(
            shop,
            community,
            actions.EventInput(
                title="农场品鉴日",
                venue="崇明有机农场",
                starts_at=starts_at,
                ends_at=starts_at + timedelta(hours=4),
                capacity=1,
            ),
            actor=operator,
        ),
        actor=operator,
    )
    url = f"/c/{community.pk}/events/{event.pk}/"

    first = signed_in_page(early)
    first.goto(f"/c/{community.pk}/events/")
    first.get_by_test_id("event-title").filter(has_text="农场品鉴日").click()
    assert first.get_by_test_id("seats-left").inner_text() == "1"
    first.get_by_test_id("rsvp-button").click()
    first.get_by_text("报名成功").wait_for()
    first.get_by_test_id("ticket-qr").wait_for()

    second = signed_in_page(late)
    second.goto(url)
    assert second.get_by_test_id("rsvp-button").inner_text() == "名额已满，加入候补"
    second.get_by_test_id("rsvp-button").click()
    second.get_by_text("你已加入候补（第 1 位）").wait_for()
    assert second.get_by_test_id("waitlist-rank").inner_text() == "1"
    shot(second, "waitlisted")

    first.get_by_test_id("cancel-button").click()
    first.get_by_text("已取消报名").wait_for()
    second.reload()
    second.get_by_test_id("ticket-qr").wait_for()
    assert Notification.objects.get(user=late, kind="events.promoted").title == "候补成功：农场品鉴日"
    shot(second, "ticket")

    ticket = Registration.objects.get(user=late, status="confirmed")
    door = signed_in_page(operator, viewport={"width": 1280, "height": 900}, is_mobile=False)
    door.goto(actions.checkin_url(ticket).replace(settings.SITE_URL, ""))
    assert door.get_by_test_id("ticket-member").inner_text() == "老李"
    door.get_by_test_id("confirm-checkin").click()
    assert door.get_by_test_id("checkin-result").inner_text() == "签到成功：老李"
    ticket.refresh_from_db()
    assert ticket.checked_in_at is not None
    stamp = timezone.localtime(ticket.checked_in_at).strftime("%H:%M")
    # A second scan at the event's check-in page changes nothing and says when.
    door.goto(f"/console/events/{event.pk}/checkin/")
    door.get_by_label("扫码或粘贴签到码").fill(actions.checkin_url(ticket))
    door.get_by_test_id("checkin-submit").click()
    assert door.get_by_test_id("checkin-result").inner_text() == f"已签到（{stamp}）"
    shot(door, "checkin")
    door.goto(f"/console/events/{event.pk}/")
    assert door.get_by_test_id("checked-in-count").inner_text() == "1"
