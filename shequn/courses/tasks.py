"""Huey tasks of courses: tell enrolled members when a drip lesson unlocks; safe to run twice.

Each run looks at lessons that opened for a member within ``LOOKBACK`` (so a missed or late run
still catches up, while lessons that opened long ago, e.g. before this feature shipped, are not
announced in bulk). Lessons open from the drip start (day 1) are never announced. A
``LessonUnlockNotice`` row per (enrolment, lesson), inserted with ``ignore_conflicts``, makes
the message go out once: only the run whose insert won (rows carrying its ``run`` id) notifies.
"""

import uuid
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from shequn.communities.models import CommunityMembership
from shequn.communities.selectors import current_q
from shequn.core.i18n import in_language_of
from shequn.notifications.actions import notify_many

from . import selectors
from .enums import CourseStatus, EnrolmentStatus
from .models import Course, Enrolment, LessonUnlockNotice

NOTICE_KIND = "course.lesson_unlocked"
# How far back a lesson's opening still counts as "new" for a run.
LOOKBACK = timedelta(days=2)


def lesson_link(course: Course, lesson_id: int) -> str:
    return reverse(
        "courses:lesson_detail",
        kwargs={"community_id": course.community_id, "course_id": course.pk, "lesson_id": lesson_id},
    )


def announce_course_unlocks(course: Course, *, now: datetime) -> int:
    """Notify the course's current learners of lessons that opened for them within ``LOOKBACK``.
    Returns how many notifications this run sent."""
    rows = selectors.lessons(course)
    if len(rows) < 2 or course.drip_interval_days == 0:
        return 0
    # The last lesson opens (n-1)*interval days after the start: older starts have nothing new.
    span = timedelta(days=(len(rows) - 1) * course.drip_interval_days) + LOOKBACK + timedelta(days=1)
    members = CommunityMembership.objects.filter(current_q(now=now), community_id=course.community_id)
    enrolments = (
        Enrolment.objects.filter(course=course, status=EnrolmentStatus.ACTIVE)
        .annotate(drip_from=Coalesce("cohort__starts_at", "enrolled_at"))
        .filter(drip_from__gt=now - span, drip_from__lte=now)
        .filter(user_id__in=members.values("user_id"))
        .select_related("cohort", "user")
    )
    due: list[tuple[Enrolment, int, int]] = []  # (enrolment, lesson number, lesson id)
    for enrolment in enrolments:
        for state in selectors.lesson_states(course, enrolment, now=now, lesson_rows=rows):
            if state.day <= 1 or state.opens_at is None:
                continue
            if now - LOOKBACK < state.opens_at <= now:
                due.append((enrolment, state.number, state.lesson.pk))
    if not due:
        return 0
    run = uuid.uuid4()
    titles = {lesson.pk: lesson.title for lesson in rows}
    with transaction.atomic():
        LessonUnlockNotice.objects.bulk_create(
            [
                LessonUnlockNotice(enrolment=enrolment, lesson_id=lesson_id, run=run)
                for enrolment, _number, lesson_id in due
            ],
            ignore_conflicts=True,
        )
        won = set(LessonUnlockNotice.objects.filter(run=run).values_list("enrolment_id", "lesson_id"))
        messages = []
        for learner, number, lesson_id in due:
            if (learner.pk, lesson_id) not in won:
                continue
            with in_language_of(learner.user):
                title = _("《%(title)s》第%(number)s课《%(titles)s》已解锁") % {
                    "title": course.title,
                    "number": number,
                    "titles": titles[lesson_id],
                }
                messages.append(
                    (learner.user_id, title, _("新的一课已开放，快来学习吧。"), lesson_link(course, lesson_id))
                )
        if messages:
            notify_many(course.shop, NOTICE_KIND, messages)
    return len(messages)


def announce_unlocked_lessons(*, now: datetime | None = None) -> int:
    """Every published drip course of an active community; returns the notifications sent."""
    now = now or timezone.now()
    courses = Course.objects.filter(
        status=CourseStatus.PUBLISHED, community__is_active=True, drip_interval_days__gt=0
    ).select_related("shop")
    return sum(announce_course_unlocks(course, now=now) for course in courses)


@db_periodic_task(crontab(minute="5", hour="16"))
def notify_unlocked_lessons() -> int:
    """Daily at 00:05 Asia/Shanghai (Huey runs crontabs in UTC): lessons open at local midnight."""
    return announce_unlocked_lessons()
