"""Races only a real engine shows (PostgreSQL pass): simultaneous free enrolments stop exactly
at a cohort's capacity, a member's double tap enrols once, and done marks count once."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from shequn.courses import actions
from shequn.courses.enums import CourseStatus
from shequn.courses.models import Cohort, Enrolment, LessonProgress
from shequn.testing.factories import CommunityFactory, MembershipFactory, StaffFactory, UserFactory
from shequn.testing.postgres import run_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def make_camp(capacity: int):
    community = CommunityFactory.create()
    operator = StaffFactory.create(shop=community.shop).user
    course = actions.do_create_course(
        community.shop,
        actions.CourseInput(community_id=community.pk, title="训练营", status=CourseStatus.PUBLISHED),
        actor=operator,
    )
    actions.do_create_lesson(
        community.shop, course, actions.LessonInput(title="第1讲", body="<p>x</p>"), actor=operator
    )
    start = timezone.now() + timedelta(days=1)
    cohort = actions.do_create_cohort(
        community.shop,
        course,
        actions.CohortInput(name="第1期", starts_at=start, ends_at=start + timedelta(days=7), capacity=capacity),
        actor=operator,
    )
    return community, course, cohort


def member_of(community):
    user = UserFactory.create()
    MembershipFactory.create(community=community, user=user)
    return user


def enrol(user, course, cohort) -> Callable[[], str]:
    def call() -> str:
        actions.do_enrol(user, course, cohort_id=cohort.pk)
        return "ok"

    return call


def test_simultaneous_enrolments_stop_at_the_capacity():
    community, course, cohort = make_camp(capacity=3)
    members = [member_of(community) for _ in range(8)]
    outcomes = run_at_once([enrol(user, course, cohort) for user in members])
    assert outcomes == ["cohort_full"] * 5 + ["ok"] * 3
    assert Cohort.objects.get(pk=cohort.pk).seats_taken == 3
    assert Enrolment.objects.filter(cohort=cohort).count() == 3


def test_a_double_tap_enrols_once_and_takes_one_seat():
    community, course, cohort = make_camp(capacity=5)
    user = member_of(community)
    outcomes = run_at_once([enrol(user, course, cohort) for _ in range(4)])
    assert outcomes.count("ok") == 1
    assert set(outcomes) - {"ok"} == {"already_enrolled"}
    assert Cohort.objects.get(pk=cohort.pk).seats_taken == 1
    assert Enrolment.objects.filter(course=course, user=user).count() == 1


def test_done_marks_count_once_under_double_taps():
    community = CommunityFactory.create()
    operator = StaffFactory.create(shop=community.shop).user
    course = actions.do_create_course(
        community.shop,
        actions.CourseInput(community_id=community.pk, title="自学", status=CourseStatus.PUBLISHED),
        actor=operator,
    )
    lesson = actions.do_create_lesson(
        community.shop, course, actions.LessonInput(title="第1讲", body="<p>x</p>"), actor=operator
    )
    user = member_of(community)
    actions.do_enrol(user, course)

    def done() -> str:
        return str(actions.do_mark_done(user, course, lesson).done)

    assert run_at_once([done for _ in range(4)]) == ["1"] * 4
    assert LessonProgress.objects.filter(lesson=lesson).count() == 1
