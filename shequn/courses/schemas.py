"""API shapes for courses. Lesson bodies are sanitised HTML; titles and descriptions plain text."""

from datetime import datetime

from ninja import Schema
from pydantic import Field

from shequn.core.schemas import Count, Fen, Id, Moment, MultilineText, PageQuery, SmallCount, Text

from .models import Cohort, Course, Enrolment, Lesson
from .selectors import LessonState, Progress


class CohortOut(Schema):
    id: int
    name: str
    starts_at: datetime
    ends_at: datetime
    capacity: int | None
    seats_taken: int
    sku_id: int | None  # what the checkout sells for this cohort (paid courses)

    @staticmethod
    def from_model(cohort: Cohort) -> "CohortOut":
        return CohortOut(
            id=cohort.pk,
            name=cohort.name,
            starts_at=cohort.starts_at,
            ends_at=cohort.ends_at,
            capacity=cohort.capacity,
            seats_taken=cohort.seats_taken,
            sku_id=cohort.sku_id,
        )


class ProgressOut(Schema):
    done: int
    total: int
    percent: int
    completed_lesson_ids: list[int] = []

    @staticmethod
    def from_progress(progress: Progress, completed: list[int] | None = None) -> "ProgressOut":
        return ProgressOut(
            done=progress.done, total=progress.total, percent=progress.percent, completed_lesson_ids=completed or []
        )


class EnrolmentOut(Schema):
    id: int
    course_id: int
    cohort_id: int | None
    cohort_name: str | None
    source: str
    status: str
    enrolled_at: datetime

    @staticmethod
    def from_model(enrolment: Enrolment) -> "EnrolmentOut":
        return EnrolmentOut(
            id=enrolment.pk,
            course_id=enrolment.course_id,
            cohort_id=enrolment.cohort_id,
            cohort_name=enrolment.cohort.name if enrolment.cohort else None,
            source=enrolment.source,
            status=enrolment.status,
            enrolled_at=enrolment.enrolled_at,
        )


class CourseOut(Schema):
    id: int
    community_id: int
    title: str
    description: str
    cover_url: str | None
    access: str
    price_fen: int | None
    drip_interval_days: int
    lesson_count: int
    enrolled: bool
    lessons_done: int

    @staticmethod
    def from_model(
        course: Course, *, lesson_count: int, enrolment: Enrolment | None, lessons_done: int = 0
    ) -> "CourseOut":
        return CourseOut(
            id=course.pk,
            community_id=course.community_id,
            title=course.title,
            description=course.description,
            cover_url=course.cover.url if course.cover else None,
            access=course.access,
            price_fen=course.price_fen,
            drip_interval_days=course.drip_interval_days,
            lesson_count=lesson_count,
            enrolled=enrolment is not None,
            lessons_done=lessons_done,
        )


class LessonSummaryOut(Schema):
    id: int
    number: int
    title: str
    kind: str
    unlock_day: int
    opens_at: datetime | None  # None until the member enrols
    is_open: bool
    is_done: bool
    unlock_label: str  # "第2天解锁（11月02日）" while locked

    @staticmethod
    def from_state(state: LessonState) -> "LessonSummaryOut":
        return LessonSummaryOut(
            id=state.lesson.pk,
            number=state.number,
            title=state.lesson.title,
            kind=state.lesson.kind,
            unlock_day=state.day,
            opens_at=state.opens_at,
            is_open=state.is_open,
            is_done=state.is_done,
            unlock_label=state.unlock_label,
        )


class CourseDetailOut(CourseOut):
    enrolment: EnrolmentOut | None
    progress: ProgressOut
    lessons: list[LessonSummaryOut]
    open_cohorts: list[CohortOut]  # cohorts still taking members
    sku_id: int | None  # paid self-paced course: what the checkout sells


class LessonOut(LessonSummaryOut):
    body: str  # sanitised HTML
    video_url: str
    audio_url: str | None  # the access-checked audio page address
    audio_duration_seconds: int | None

    @staticmethod
    def from_lesson_state(state: LessonState, audio_url: str | None) -> "LessonOut":
        lesson = state.lesson
        return LessonOut(
            **LessonSummaryOut.from_state(state).model_dump(),
            body=lesson.body,
            video_url=lesson.video_url,
            audio_url=audio_url if lesson.audio else None,
            audio_duration_seconds=lesson.audio_duration_seconds,
        )


class EnrolIn(Schema):
    cohort_id: Id | None = None


# --- console ---------------------------------------------------------------------------


class ConsoleCourseOut(Schema):
    id: int
    community_id: int
    community_name: str
    title: str
    description: str
    cover_url: str | None
    access: str
    price_fen: int | None
    drip_interval_days: int
    status: str
    position: int
    product_id: int | None
    lesson_count: int
    enrolment_count: int

    @staticmethod
    def from_model(course: Course) -> "ConsoleCourseOut":
        return ConsoleCourseOut(
            id=course.pk,
            community_id=course.community_id,
            community_name=course.community.name,
            title=course.title,
            description=course.description,
            cover_url=course.cover.url if course.cover else None,
            access=course.access,
            price_fen=course.price_fen,
            drip_interval_days=course.drip_interval_days,
            status=course.status,
            position=course.position,
            product_id=course.product_id,
            lesson_count=getattr(course, "lesson_count", None) or course.lessons.count(),
            enrolment_count=getattr(course, "enrolment_count", None)
            or course.enrolments.filter(status="active").count(),
        )


class CourseIn(Schema):
    community_id: Id
    title: Text = Field(..., max_length=60)
    description: MultilineText = ""
    access: Text = Field("members_only", max_length=16)
    price_fen: Fen | None = None
    drip_interval_days: SmallCount = 1
    status: Text = Field("draft", max_length=16)
    position: Count = 0


class CourseQuery(PageQuery):
    community_id: Id | None = None


class ConsoleLessonOut(Schema):
    id: int
    course_id: int
    number: int
    position: int
    title: str
    kind: str
    body: str
    video_url: str
    has_audio: bool
    audio_duration_seconds: int | None

    @staticmethod
    def from_model(lesson: Lesson, number: int) -> "ConsoleLessonOut":
        return ConsoleLessonOut(
            id=lesson.pk,
            course_id=lesson.course_id,
            number=number,
            position=lesson.position,
            title=lesson.title,
            kind=lesson.kind,
            body=lesson.body,
            video_url=lesson.video_url,
            has_audio=bool(lesson.audio),
            audio_duration_seconds=lesson.audio_duration_seconds,
        )


class LessonIn(Schema):
    title: Text = Field(..., max_length=60)
    kind: Text = Field("text", max_length=8)
    body: MultilineText = ""
    video_url: Text = Field("", max_length=500)
    audio_duration_seconds: Count | None = None


class LessonOrderIn(Schema):
    lesson_ids: list[Id]


class CohortIn(Schema):
    name: Text = Field(..., max_length=40)
    starts_at: Moment
    ends_at: Moment
    capacity: Count | None = None


class EnrolmentProgressOut(EnrolmentOut):
    user_id: int
    member_name: str
    lessons_done: int
    lesson_total: int

    @staticmethod
    def from_row(enrolment: Enrolment, lesson_total: int) -> "EnrolmentProgressOut":
        return EnrolmentProgressOut(
            **EnrolmentOut.from_model(enrolment).model_dump(),
            user_id=enrolment.user_id,
            member_name=enrolment.user.display_name,
            lessons_done=getattr(enrolment, "done_count", 0),
            lesson_total=lesson_total,
        )


class EnrolmentQuery(PageQuery):
    status: Text = Field("", max_length=20)
