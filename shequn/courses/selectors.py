"""Reads for courses, and the drip arithmetic.

Member reads go through ``access_member_*``: only active members of an active community see
its published courses; everyone else gets 404 (members-only content is invisible, not
forbidden). Console reads go through ``access_*(shop, id)`` scoped to the caller's shop.

Drip: lesson N (1-based, in position order) opens on local calendar day
``1 + (N-1) * drip_interval_days`` counted from the drip start, the cohort's ``starts_at`` or
else the member's ``enrolled_at``; day 1 is the start itself, later days open at local
midnight (Asia/Shanghai), so "第2天解锁（11月02日）" means exactly that date.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from shequn.catalog.models import Sku
from shequn.communities import selectors as community_selectors
from shequn.communities.models import Community
from shequn.core.errors import NotFound
from shequn.shops.models import Shop

from .enums import CourseStatus, EnrolmentStatus
from .errors import CohortNotFound, CourseNotFound, LessonLocked, LessonNotFound, NotEnrolled
from .models import Cohort, Course, Enrolment, Lesson, LessonProgress

COURSE_NOT_FOUND = gettext_noop("课程不存在或仅对社群成员开放")


# --- drip ------------------------------------------------------------------------------


def drip_start(enrolment: Enrolment) -> datetime:
    return enrolment.cohort.starts_at if enrolment.cohort_id and enrolment.cohort else enrolment.enrolled_at


def unlock_day(course: Course, number: int) -> int:
    """The day (counted from 1 at the drip start) lesson ``number`` opens on."""
    return 1 + (number - 1) * course.drip_interval_days


def opens_at(course: Course, start: datetime, number: int) -> datetime:
    day = unlock_day(course, number)
    if day <= 1:
        return start
    local_day: date = timezone.localdate(start) + timedelta(days=day - 1)
    return timezone.make_aware(datetime.combine(local_day, time.min))


@dataclass
class LessonState:
    lesson: Lesson
    number: int  # 第 N 课, from 1
    day: int  # the drip day it opens on
    opens_at: datetime | None  # None: the viewer is not enrolled
    is_open: bool
    is_done: bool

    @property
    def unlock_label(self) -> str:
        if self.is_open:
            return ""
        if self.opens_at is None:
            return _("报名后学习")
        local = timezone.localtime(self.opens_at)
        return _("第%(day)s天解锁（%(date)s）") % {"day": self.day, "date": dateformat.format(local, _("m月d日"))}


def lessons(course: Course) -> list[Lesson]:
    return list(Lesson.objects.filter(course=course).order_by("position", "id"))


def lesson_states(
    course: Course, enrolment: Enrolment | None, *, now: datetime | None = None, lesson_rows: list[Lesson] | None = None
) -> list[LessonState]:
    """Every lesson with its number, unlock time, and whether it is open and done for ``enrolment``."""
    now = now or timezone.now()
    rows = lesson_rows if lesson_rows is not None else lessons(course)
    done: set[int] = set()
    start: datetime | None = None
    if enrolment is not None:
        start = drip_start(enrolment)
        done = set(LessonProgress.objects.filter(enrolment=enrolment).values_list("lesson_id", flat=True))
    states = []
    for index, lesson in enumerate(rows):
        number = index + 1
        when = opens_at(course, start, number) if start is not None else None
        states.append(
            LessonState(
                lesson=lesson,
                number=number,
                day=unlock_day(course, number),
                opens_at=when,
                is_open=when is not None and when <= now,
                is_done=lesson.pk in done,
            )
        )
    return states


def lesson_state(
    course: Course, enrolment: Enrolment | None, lesson: Lesson, *, now: datetime | None = None
) -> LessonState:
    for state in lesson_states(course, enrolment, now=now):
        if state.lesson.pk == lesson.pk:
            return state
    raise LessonNotFound(_("课时不存在"))


@dataclass
class Progress:
    done: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def progress(enrolment: Enrolment | None, course: Course) -> Progress:
    total = Lesson.objects.filter(course=course).count()
    done = LessonProgress.objects.filter(enrolment=enrolment).count() if enrolment is not None else 0
    return Progress(done=done, total=total)


# --- members -----------------------------------------------------------------------


def access_member_community(user: Any, community_id: int) -> Community:
    """An active community ``user`` actively belongs to; 404 for everyone else."""
    try:
        community = community_selectors.active_community(community_id)
    except NotFound:
        raise CourseNotFound(_(COURSE_NOT_FOUND)) from None
    if not community_selectors.is_community_member(user, community):
        raise CourseNotFound(_(COURSE_NOT_FOUND))
    return community


def published_courses(community: Community) -> QuerySet[Course]:
    return Course.objects.filter(community=community, status=CourseStatus.PUBLISHED).order_by("position", "-id")


def access_member_course(user: Any, community_id: int, course_id: int) -> Course:
    community = access_member_community(user, community_id)
    course = (
        Course.objects.select_related("community", "shop")
        .filter(community=community, pk=course_id, status=CourseStatus.PUBLISHED)
        .first()
    )
    if course is None:
        raise CourseNotFound(_(COURSE_NOT_FOUND))
    return course


def active_enrolment(user: Any, course: Course) -> Enrolment | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Enrolment.objects.select_related("cohort")
        .filter(course=course, user=user, status=EnrolmentStatus.ACTIVE)
        .first()
    )


def enrolments_by_course(user: Any, course_ids: list[int]) -> dict[int, Enrolment]:
    """The member's active enrolments among ``course_ids``, each with ``done_count``."""
    if not getattr(user, "is_authenticated", False) or not course_ids:
        return {}
    rows = (
        Enrolment.objects.filter(user=user, course_id__in=course_ids, status=EnrolmentStatus.ACTIVE)
        .select_related("cohort")
        .annotate(done_count=Count("progress", distinct=True))
    )
    return {row.course_id: row for row in rows}


def lesson_counts(course_ids: list[int]) -> dict[int, int]:
    rows = Lesson.objects.filter(course_id__in=course_ids).values("course_id").annotate(total=Count("id"))
    return {row["course_id"]: row["total"] for row in rows}


def access_member_lesson(user: Any, community_id: int, course_id: int, lesson_id: int) -> tuple[Course, LessonState]:
    """A lesson the member may read now: enrolled (403 ``not_enrolled``) and unlocked (403 ``lesson_locked``)."""
    course = access_member_course(user, community_id, course_id)
    lesson = Lesson.objects.filter(course=course, pk=lesson_id).first()
    if lesson is None:
        raise LessonNotFound(_("课时不存在"))
    enrolment = active_enrolment(user, course)
    if enrolment is None:
        raise NotEnrolled(_("报名后才能学习本课程"), details={"course_id": course.pk})
    state = lesson_state(course, enrolment, lesson)
    check_open(state)
    return course, state


def check_open(state: LessonState) -> None:
    if not state.is_open:
        assert state.opens_at is not None
        raise LessonLocked(
            _("本课%(unlock_label)s，请到时再来学习") % {"unlock_label": state.unlock_label},
            details={"day": state.day, "opens_at": state.opens_at.isoformat()},
        )


def enrollable_cohorts(course: Course, *, now: datetime | None = None) -> list[Cohort]:
    """Cohorts still taking members: not started and not full."""
    now = now or timezone.now()
    return [
        cohort
        for cohort in Cohort.objects.filter(course=course, starts_at__gt=now).select_related("sku")
        if cohort.capacity is None or cohort.seats_taken < cohort.capacity
    ]


def has_cohorts(course: Course) -> bool:
    return Cohort.objects.filter(course=course).exists()


def self_paced_sku(course: Course) -> Any:
    """The one SKU of a paid course without cohorts (None when it has none)."""
    if course.product_id is None:
        return None
    return Sku.objects.filter(product_id=course.product_id, is_active=True).order_by("position", "id").first()


def course_for_sku(sku: Any) -> tuple[Course, Cohort | None]:
    """The course (and cohort) a SKU of kind ``course`` sells."""
    course = Course.objects.select_related("community", "shop").filter(product_id=sku.product_id).first()
    if course is None:
        raise CourseNotFound(_("课程不存在"))
    cohort = Cohort.objects.filter(course=course, sku_id=sku.pk).first()
    return course, cohort


# --- console (staff of one shop) ---------------------------------------------------


def shop_communities(shop: Shop) -> QuerySet[Community]:
    return Community.objects.filter(shop=shop).order_by("-is_active", "id")


def access_community(shop: Shop, community_id: int) -> Community:
    return community_selectors.access_community(shop, community_id)


def shop_courses(shop: Shop, *, community_id: int | None = None) -> QuerySet[Course]:
    courses = (
        Course.objects.filter(shop=shop)
        .select_related("community")
        .annotate(
            lesson_count=Count("lessons", distinct=True),
            enrolment_count=Count("enrolments", filter=Q(enrolments__status=EnrolmentStatus.ACTIVE), distinct=True),
        )
    )
    if community_id:
        courses = courses.filter(community_id=community_id)
    return courses.order_by("position", "-id")


def access_course(shop: Shop, course_id: int) -> Course:
    course = Course.objects.select_related("community").filter(shop=shop, pk=course_id).first()
    if course is None:
        raise CourseNotFound(_("课程不存在"))
    return course


def access_lesson(shop: Shop, lesson_id: int) -> Lesson:
    lesson = Lesson.objects.select_related("course").filter(course__shop=shop, pk=lesson_id).first()
    if lesson is None:
        raise LessonNotFound(_("课时不存在"))
    return lesson


def access_cohort(shop: Shop, cohort_id: int) -> Cohort:
    cohort = Cohort.objects.select_related("course").filter(course__shop=shop, pk=cohort_id).first()
    if cohort is None:
        raise CohortNotFound(_("期次不存在"))
    return cohort


def course_cohorts(course: Course) -> QuerySet[Cohort]:
    return Cohort.objects.filter(course=course).order_by("starts_at", "id")


def course_enrolments(course: Course, *, status: str = "") -> QuerySet[Enrolment]:
    """Enrolments, newest first, each with ``done_count`` (lessons marked done)."""
    rows = (
        Enrolment.objects.filter(course=course)
        .select_related("user", "cohort")
        .annotate(done_count=Count("progress", distinct=True))
    )
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("-enrolled_at", "-id")
