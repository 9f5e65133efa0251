"""Unlock notices: shortly after Shanghai midnight each enrolled member gets one inbox message
per drip lesson that opened for them, once, however often the sweep runs; lessons open from
day 1, members whose access ended and courses without drip get nothing."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shequn.courses import actions, tasks
from shequn.courses.enums import CourseAccess
from shequn.courses.models import LessonUnlockNotice
from shequn.notifications.models import Notification
from shequn.testing.factories import CommunityFactory, MembershipFactory, StaffFactory, UserFactory
from shequn.testing.payments import sandbox, sandbox_key_dir
from shequn.testing.postgres import run_at_once

from .conftest import api_client, login, make_course
from .test_paid import JSON, PRICE, buy, commit

__all__ = ["commit", "sandbox", "sandbox_key_dir"]

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def inbox(user) -> list[tuple[str, str, str]]:
    return list(
        Notification.objects.filter(user=user, kind=tasks.NOTICE_KIND)
        .order_by("id")
        .values_list("title", "body", "link")
    )


def lesson_url(community, course, lesson) -> str:
    return f"/c/{community.pk}/courses/{course.pk}/lessons/{lesson.pk}/"


def test_day_one_sends_nothing_then_each_opening_day_one_message_per_member(
    shop, community, operator, member, other_member, outsider, time_machine
):
    time_machine.move_to(at("2026-06-01 10:00:00"), tick=False)
    course = make_course(shop, community, operator)
    actions.do_enrol(member, course)
    actions.do_enrol(other_member, course)
    first, second, third = course.lessons.order_by("position")

    # Day 1: lesson 1 is open from the start and is not announced; nothing else is open yet.
    time_machine.move_to(at("2026-06-01 23:59:00"), tick=False)
    assert tasks.announce_unlocked_lessons() == 0
    assert Notification.objects.count() == 0

    # 00:05 on day 2, through the periodic task itself: lesson 2, once per enrolled member.
    time_machine.move_to(at("2026-06-02 00:05:00"), tick=False)
    tasks.notify_unlocked_lessons()
    expected = (
        "《21 天阅读训练》第2课《第2讲》已解锁",
        "新的一课已开放，快来学习吧。",
        lesson_url(community, course, second),
    )
    assert inbox(member) == [expected]
    assert inbox(other_member) == [expected]
    assert inbox(outsider) == []
    assert Notification.objects.count() == 2
    assert api_client(member).get("/api/v1/notifications/").json()["items"][0]["title"] == expected[0]
    # The link opens the lesson for the member.
    page = login(member).get(expected[2])
    assert page.status_code == 200
    assert "正文2" in page.content.decode()

    # The same day again (a repeated or late run): nothing new.
    time_machine.move_to(at("2026-06-02 09:00:00"), tick=False)
    assert tasks.announce_unlocked_lessons() == 0
    assert Notification.objects.count() == 2
    assert LessonUnlockNotice.objects.count() == 2

    # Day 3: lesson 3, once each; lesson 2 is not repeated.
    time_machine.move_to(at("2026-06-03 00:05:00"), tick=False)
    assert tasks.announce_unlocked_lessons() == 2
    assert tasks.announce_unlocked_lessons() == 0
    assert [title for title, _, _ in inbox(member)] == [
        "《21 天阅读训练》第2课《第2讲》已解锁",
        "《21 天阅读训练》第3课《第3讲》已解锁",
    ]
    assert inbox(other_member)[1][2] == lesson_url(community, course, third)
    assert Notification.objects.count() == 4
    assert not Notification.objects.filter(link=lesson_url(community, course, first)).exists()


def test_a_missed_night_is_caught_up_but_old_openings_are_not_announced(
    shop, community, operator, member, time_machine
):
    time_machine.move_to(at("2026-06-01 10:00:00"), tick=False)
    course = make_course(shop, community, operator, lessons=6)
    actions.do_enrol(member, course)

    # The sweeper was down on days 2 to 5; on day 6 it announces what opened in the last two days.
    time_machine.move_to(at("2026-06-06 08:00:00"), tick=False)
    assert tasks.announce_unlocked_lessons() == 2
    assert [title for title, _, _ in inbox(member)] == [
        "《21 天阅读训练》第5课《第5讲》已解锁",
        "《21 天阅读训练》第6课《第6讲》已解锁",
    ]


def test_a_cohort_counts_from_its_start(shop, community, operator, member, time_machine):
    time_machine.move_to(at("2026-06-01 10:00:00"), tick=False)
    course = make_course(shop, community, operator, title="写作营")
    actions.do_create_cohort(
        shop,
        course,
        actions.CohortInput(
            name="第1期", starts_at=at("2026-06-05 20:00:00"), ends_at=at("2026-06-20 20:00:00"), capacity=None
        ),
        actor=operator,
    )
    actions.do_enrol(member, course, cohort_id=course.cohorts.get().pk)

    time_machine.move_to(at("2026-06-02 00:05:00"), tick=False)
    assert tasks.announce_unlocked_lessons() == 0
    time_machine.move_to(at("2026-06-06 00:05:00"), tick=False)
    assert tasks.announce_unlocked_lessons() == 1
    assert [title for title, _, _ in inbox(member)] == ["《写作营》第2课《第2讲》已解锁"]


def test_a_refunded_member_gets_nothing(sandbox, commit, shop, community, operator, member, other_member, time_machine):
    time_machine.move_to(at("2026-06-01 10:00:00"), tick=True)
    course = make_course(shop, community, operator, title="自学课", access=CourseAccess.PAID, price_fen=PRICE)
    sku_id = course.product.skus.get().pk
    order, _ = buy(member, sku_id, commit)
    buy(other_member, sku_id, commit)
    with commit():
        refund = api_client(member).post(
            f"/api/v1/orders/{order['number']}/refunds",
            {"line_id": order["lines"][0]["id"], "amount_fen": PRICE, "reason": "时间不够"},
            content_type=JSON,
        )
    assert refund.status_code == 201
    assert api_client(member).get("/api/v1/orders/refunds").json()["items"][0]["status"] == "refunded"

    time_machine.move_to(at("2026-06-02 00:05:00"), tick=False)
    assert tasks.announce_unlocked_lessons() == 1
    assert inbox(member) == []
    assert [title for title, _, _ in inbox(other_member)] == ["《自学课》第2课《第2讲》已解锁"]


def test_a_member_who_left_the_community_gets_nothing(shop, community, operator, member, other_member, time_machine):
    time_machine.move_to(at("2026-06-01 10:00:00"), tick=False)
    course = make_course(shop, community, operator)
    actions.do_enrol(member, course)
    actions.do_enrol(other_member, course)
    membership = member.community_memberships.get(community=community)
    membership.expires_at = at("2026-06-01 12:00:00")
    membership.save(update_fields=["expires_at"])

    time_machine.move_to(at("2026-06-02 00:05:00"), tick=False)
    assert tasks.announce_unlocked_lessons() == 1
    assert inbox(member) == []
    assert len(inbox(other_member)) == 1


def test_a_course_without_drip_sends_nothing(shop, community, operator, member, time_machine):
    time_machine.move_to(at("2026-06-01 10:00:00"), tick=False)
    course = make_course(shop, community, operator, drip_interval_days=0)
    actions.do_enrol(member, course)

    for moment in ("2026-06-01 23:00:00", "2026-06-02 00:05:00", "2026-06-03 00:05:00"):
        time_machine.move_to(at(moment), tick=False)
        assert tasks.announce_unlocked_lessons() == 0
    assert Notification.objects.count() == 0
    assert LessonUnlockNotice.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_sweeps_send_each_notice_once():
    community = CommunityFactory.create()
    operator = StaffFactory.create(shop=community.shop).user
    course = make_course(community.shop, community, operator)
    members = [UserFactory.create() for _ in range(5)]
    for user in members:
        MembershipFactory.create(community=community, user=user)
        actions.do_enrol(user, course)
    second = course.lessons.order_by("position")[1]
    now = timedelta(minutes=5) + tasks.selectors.opens_at(course, course.enrolments.first().enrolled_at, 2)

    outcomes = run_at_once([lambda: tasks.announce_unlocked_lessons(now=now) for _ in range(4)])
    assert sum(outcomes) == 5
    assert Notification.objects.filter(kind=tasks.NOTICE_KIND).count() == 5
    for user in members:
        assert list(Notification.objects.filter(user=user).values_list("link", flat=True)) == [
            lesson_url(community, course, second)
        ]
