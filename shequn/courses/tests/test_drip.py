"""Drip release: lesson N opens on day 1+(N-1)×interval after enrolment or the cohort's start
(local calendar days, Asia/Shanghai); locked lessons are refused on the page and the API."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from shequn.courses import actions
from shequn.courses.errors import CohortFull, EnrolmentClosed, LessonLocked
from shequn.courses.models import Cohort

from .conftest import api_client, login, make_course

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def lesson_states(client, community, course):
    detail = client.get(f"/api/v1/courses/communities/{community.pk}/courses/{course.pk}").json()
    return [(lesson["number"], lesson["is_open"], lesson["unlock_label"]) for lesson in detail["lessons"]]


def test_lesson_two_is_locked_on_day_one_and_open_on_day_two(community, course, member, time_machine):
    """Done-when of issue 3 item 7."""
    time_machine.move_to(at("2026-06-01 10:00:00"), tick=False)
    client = api_client(member)
    base = f"/api/v1/courses/communities/{community.pk}/courses/{course.pk}"
    assert client.post(f"{base}/enrol", {}, content_type="application/json").status_code == 201
    first, second, third = course.lessons.order_by("position")

    assert lesson_states(client, community, course) == [
        (1, True, ""),
        (2, False, "第2天解锁（06月02日）"),
        (3, False, "第3天解锁（06月03日）"),
    ]
    assert client.get(f"{base}/lessons/{first.pk}").json()["body"] == "<p>正文1</p>"
    locked = client.get(f"{base}/lessons/{second.pk}")
    assert locked.status_code == 403
    assert locked.json()["code"] == "lesson_locked"
    assert locked.json()["message"] == "本课第2天解锁（06月02日），请到时再来学习"
    assert locked.json()["details"]["day"] == 2
    assert "正文2" not in locked.content.decode()
    page = login(member).get(f"/c/{community.pk}/courses/{course.pk}/lessons/{second.pk}/")
    assert page.status_code == 403
    assert "正文2" not in page.content.decode()
    course_page = login(member).get(f"/c/{community.pk}/courses/{course.pk}/").content.decode()
    assert "第2天解锁（06月02日）" in course_page

    # Late on day 1 it is still locked; just after midnight (day 2) it opens.
    time_machine.move_to(at("2026-06-01 23:59:59"), tick=False)
    assert client.get(f"{base}/lessons/{second.pk}").status_code == 403
    time_machine.move_to(at("2026-06-02 00:00:01"), tick=False)
    opened = client.get(f"{base}/lessons/{second.pk}")
    assert opened.status_code == 200
    assert opened.json()["body"] == "<p>正文2</p>"
    page = login(member).get(f"/c/{community.pk}/courses/{course.pk}/lessons/{second.pk}/")
    assert page.status_code == 200
    assert "正文2" in page.content.decode()
    assert client.get(f"{base}/lessons/{third.pk}").status_code == 403
    assert lesson_states(client, community, course)[1] == (2, True, "")


def test_a_two_day_interval_opens_lesson_two_on_day_three(shop, community, operator, member, time_machine):
    time_machine.move_to(at("2026-06-01 10:00:00"), tick=False)
    course = make_course(shop, community, operator, drip_interval_days=2)
    actions.do_enrol(member, course)
    client = api_client(member)
    assert lesson_states(client, community, course) == [
        (1, True, ""),
        (2, False, "第3天解锁（06月03日）"),
        (3, False, "第5天解锁（06月05日）"),
    ]


def test_interval_zero_opens_every_lesson_at_once(shop, community, operator, member):
    course = make_course(shop, community, operator, drip_interval_days=0)
    actions.do_enrol(member, course)
    assert [opened for _, opened, _ in lesson_states(api_client(member), community, course)] == [True, True, True]


def test_not_enrolled_members_see_titles_but_no_bodies(community, course, member):
    client = api_client(member)
    assert lesson_states(client, community, course) == [(1, False, "报名后学习")] * 1 + [
        (2, False, "报名后学习"),
        (3, False, "报名后学习"),
    ]
    first = course.lessons.order_by("position").first()
    response = client.get(f"/api/v1/courses/communities/{community.pk}/courses/{course.pk}/lessons/{first.pk}")
    assert (response.status_code, response.json()["code"]) == (403, "not_enrolled")


def make_cohort(shop, course, operator, name="第1期", *, starts, ends, capacity=None):
    return actions.do_create_cohort(
        shop,
        course,
        actions.CohortInput(name=name, starts_at=at(starts), ends_at=at(ends), capacity=capacity),
        actor=operator,
    )


def test_cohort_drip_counts_from_the_cohort_start_and_stays_open_after_the_end(
    shop, community, course, operator, member, time_machine
):
    time_machine.move_to(at("2026-06-01 10:00:00"), tick=False)
    cohort = make_cohort(shop, course, operator, starts="2026-06-10 09:00:00", ends="2026-06-20 21:00:00")
    enrolment = actions.do_enrol(member, course, cohort_id=cohort.pk)
    assert enrolment.cohort_id == cohort.pk
    client = api_client(member)
    # Before the start even lesson 1 waits for day 1 of the cohort.
    assert lesson_states(client, community, course) == [
        (1, False, "第1天解锁（06月10日）"),
        (2, False, "第2天解锁（06月11日）"),
        (3, False, "第3天解锁（06月12日）"),
    ]
    first, second, _ = course.lessons.order_by("position")
    with pytest.raises(LessonLocked):
        actions.do_mark_done(member, course, first)

    time_machine.move_to(at("2026-06-10 09:00:00"), tick=False)
    assert [opened for _, opened, _ in lesson_states(client, community, course)] == [True, False, False]
    time_machine.move_to(at("2026-06-11 00:00:00"), tick=False)
    assert [opened for _, opened, _ in lesson_states(client, community, course)] == [True, True, False]
    # Content stays readable after the camp ends.
    time_machine.move_to(at("2026-07-30 12:00:00"), tick=False)
    assert [opened for _, opened, _ in lesson_states(client, community, course)] == [True, True, True]
    base = f"/api/v1/courses/communities/{community.pk}/courses/{course.pk}"
    assert client.get(f"{base}/lessons/{second.pk}").status_code == 200


def test_cohort_enrolment_closes_at_the_start_and_when_full(
    shop, community, course, operator, member, other_member, outsider, time_machine
):
    time_machine.move_to(at("2026-06-01 10:00:00"), tick=False)
    cohort = make_cohort(shop, course, operator, starts="2026-06-10 09:00:00", ends="2026-06-20 21:00:00", capacity=1)
    client = api_client(other_member)
    url = f"/api/v1/courses/communities/{community.pk}/courses/{course.pk}/enrol"
    missing = client.post(url, {}, content_type="application/json")
    assert (missing.status_code, missing.json()["code"]) == (422, "cohort_required")
    actions.do_enrol(member, course, cohort_id=cohort.pk)
    full = client.post(url, {"cohort_id": cohort.pk}, content_type="application/json")
    assert (full.status_code, full.json()["code"], full.json()["message"]) == (409, "cohort_full", "「第1期」名额已满")
    assert Cohort.objects.get(pk=cohort.pk).seats_taken == 1
    with pytest.raises(CohortFull):
        actions.do_enrol(other_member, course, cohort_id=cohort.pk)

    later = make_cohort(shop, course, operator, "第2期", starts="2026-06-05 09:00:00", ends="2026-06-15 21:00:00")
    time_machine.move_to(at("2026-06-05 09:00:00"), tick=False)
    with pytest.raises(EnrolmentClosed, match="「第2期」已开营，报名已截止"):
        actions.do_enrol(other_member, course, cohort_id=later.pk)
    detail = client.get(f"/api/v1/courses/communities/{community.pk}/courses/{course.pk}").json()
    assert detail["open_cohorts"] == []  # 第1期 full, 第2期 started
