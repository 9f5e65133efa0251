"""Courses API: members read, enrol and study under /communities/{id}/courses/...; operators
manage courses, lessons, cohorts and see enrolments with progress under /console/ (X-Shop)."""

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile

from shequn.core.audit import client_ip
from shequn.core.schemas import Id, Page, PageQuery, error_responses, paginate
from shequn.shops.console import api_console_shop
from shequn.shops.models import Shop
from shequn.shops.permissions import MANAGE_COMMUNITIES

from . import actions, selectors
from .errors import NotEnrolled
from .models import Course, LessonProgress
from .schemas import (
    CohortIn,
    CohortOut,
    ConsoleCourseOut,
    ConsoleLessonOut,
    CourseDetailOut,
    CourseIn,
    CourseOut,
    CourseQuery,
    EnrolIn,
    EnrolmentOut,
    EnrolmentProgressOut,
    EnrolmentQuery,
    LessonIn,
    LessonOrderIn,
    LessonOut,
    LessonSummaryOut,
    ProgressOut,
)

router = Router(tags=["courses"])
console = Router(tags=["courses console"])

READ_ERRORS = error_responses(401, 404, 422)
LESSON_ERRORS = error_responses(401, 403, 404, 422)  # 403: not_enrolled, lesson_locked
ENROL_ERRORS = error_responses(401, 404, 409, 422)  # 409: already_enrolled, enrolment_closed, cohort_full, ...
CONSOLE_ERRORS = error_responses(401, 403, 404, 422)
CONSOLE_DELETE_ERRORS = error_responses(401, 403, 404, 409, 422)


def _detail(request: HttpRequest, course: Course) -> CourseDetailOut:
    enrolment = selectors.active_enrolment(request.user, course)
    rows = selectors.lessons(course)
    states = selectors.lesson_states(course, enrolment, lesson_rows=rows)
    done = [state.lesson.pk for state in states if state.is_done]
    sku = selectors.self_paced_sku(course) if course.is_paid and not selectors.has_cohorts(course) else None
    return CourseDetailOut(
        **CourseOut.from_model(
            course, lesson_count=len(rows), enrolment=enrolment, lessons_done=len(done)
        ).model_dump(),
        enrolment=EnrolmentOut.from_model(enrolment) if enrolment else None,
        progress=ProgressOut.from_progress(selectors.Progress(done=len(done), total=len(rows)), done),
        lessons=[LessonSummaryOut.from_state(state) for state in states],
        open_cohorts=[CohortOut.from_model(c) for c in selectors.enrollable_cohorts(course)],
        sku_id=sku.pk if sku else None,
    )


@router.get("/communities/{int:community_id}/courses", response={200: Page[CourseOut], **READ_ERRORS})
def courses(request: HttpRequest, community_id: Id, query: Query[PageQuery]) -> dict:
    """Published courses of a community (members only: 404 for everyone else)."""
    community = selectors.access_member_community(request.user, community_id)
    page = paginate(selectors.published_courses(community), query.page, query.page_size)
    ids = [course.pk for course in page["items"]]
    counts, mine = selectors.lesson_counts(ids), selectors.enrolments_by_course(request.user, ids)
    page["items"] = [
        CourseOut.from_model(
            course,
            lesson_count=counts.get(course.pk, 0),
            enrolment=mine.get(course.pk),
            lessons_done=getattr(mine.get(course.pk), "done_count", 0),
        )
        for course in page["items"]
    ]
    return page


@router.get("/communities/{int:community_id}/courses/{int:course_id}", response={200: CourseDetailOut, **READ_ERRORS})
def course_detail(request: HttpRequest, community_id: Id, course_id: Id) -> CourseDetailOut:
    """The course with every lesson's lock state for the caller; bodies come from the lesson route."""
    return _detail(request, selectors.access_member_course(request.user, community_id, course_id))


@router.get(
    "/communities/{int:community_id}/courses/{int:course_id}/lessons/{int:lesson_id}",
    response={200: LessonOut, **LESSON_ERRORS},
)
def lesson(request: HttpRequest, community_id: Id, course_id: Id, lesson_id: Id) -> LessonOut:
    """403 ``not_enrolled`` before enrolling; 403 ``lesson_locked`` (details: day, opens_at) before its day."""
    course, state = selectors.access_member_lesson(request.user, community_id, course_id, lesson_id)
    audio_url = reverse("courses:lesson_audio", args=[community_id, course.pk, state.lesson.pk])
    return LessonOut.from_lesson_state(state, audio_url)


@router.post(
    "/communities/{int:community_id}/courses/{int:course_id}/enrol",
    response={201: EnrolmentOut, **ENROL_ERRORS},
)
def enrol(request: HttpRequest, community_id: Id, course_id: Id, body: EnrolIn) -> Status[EnrolmentOut]:
    """Free enrolment in a members-only course; ``cohort_id`` when it runs in cohorts.
    409 ``purchase_required`` for a paid course (buy its SKU through the orders API)."""
    course = selectors.access_member_course(request.user, community_id, course_id)
    return Status(201, EnrolmentOut.from_model(actions.do_enrol(request.user, course, cohort_id=body.cohort_id)))


@router.post(
    "/communities/{int:community_id}/courses/{int:course_id}/lessons/{int:lesson_id}/done",
    response={200: ProgressOut, **LESSON_ERRORS},
)
def mark_done(request: HttpRequest, community_id: Id, course_id: Id, lesson_id: Id) -> ProgressOut:
    """Mark an open lesson done (idempotent); returns the member's progress."""
    course, state = selectors.access_member_lesson(request.user, community_id, course_id, lesson_id)
    progress = actions.do_mark_done(request.user, course, state.lesson)
    enrolment = selectors.active_enrolment(request.user, course)
    done = list(LessonProgress.objects.filter(enrolment=enrolment).values_list("lesson_id", flat=True))
    return ProgressOut.from_progress(progress, sorted(done))


@router.get(
    "/communities/{int:community_id}/courses/{int:course_id}/progress",
    response={200: ProgressOut, **LESSON_ERRORS},
)
def my_progress(request: HttpRequest, community_id: Id, course_id: Id) -> ProgressOut:
    """Lessons done of all lessons; 403 ``not_enrolled`` before enrolling."""
    course = selectors.access_member_course(request.user, community_id, course_id)
    enrolment = selectors.active_enrolment(request.user, course)
    if enrolment is None:
        raise NotEnrolled(_("报名后才能学习本课程"))
    done = sorted(LessonProgress.objects.filter(enrolment=enrolment).values_list("lesson_id", flat=True))
    return ProgressOut.from_progress(selectors.progress(enrolment, course), done)


# --- operator console ----------------------------------------------------------------


def _course_input(body: CourseIn) -> actions.CourseInput:
    return actions.CourseInput(
        community_id=body.community_id,
        title=body.title,
        description=body.description,
        access=body.access,
        price_fen=body.price_fen,
        drip_interval_days=body.drip_interval_days,
        status=body.status,
        position=body.position,
    )


def _console_course(shop: Shop, course_id: int) -> ConsoleCourseOut:
    course = selectors.shop_courses(shop).get(pk=course_id)
    return ConsoleCourseOut.from_model(course)


@console.get("/courses", response={200: Page[ConsoleCourseOut], **CONSOLE_ERRORS})
def console_courses(request: HttpRequest, query: Query[CourseQuery]) -> dict:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    page = paginate(selectors.shop_courses(shop, community_id=query.community_id), query.page, query.page_size)
    page["items"] = [ConsoleCourseOut.from_model(c) for c in page["items"]]
    return page


@console.post("/courses", response={201: ConsoleCourseOut, **CONSOLE_ERRORS})
def console_create_course(request: HttpRequest, body: CourseIn) -> Status[ConsoleCourseOut]:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    course = actions.do_create_course(shop, _course_input(body), actor=request.user, ip=client_ip(request))
    return Status(201, _console_course(shop, course.pk))


@console.get("/courses/{int:course_id}", response={200: ConsoleCourseOut, **CONSOLE_ERRORS})
def console_course(request: HttpRequest, course_id: Id) -> ConsoleCourseOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    return _console_course(shop, selectors.access_course(shop, course_id).pk)


@console.put("/courses/{int:course_id}", response={200: ConsoleCourseOut, **CONSOLE_ERRORS})
def console_update_course(request: HttpRequest, course_id: Id, body: CourseIn) -> ConsoleCourseOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    course = selectors.access_course(shop, course_id)
    actions.do_update_course(shop, course, _course_input(body), actor=request.user, ip=client_ip(request))
    return _console_course(shop, course.pk)


@console.delete("/courses/{int:course_id}", response={204: None, **CONSOLE_DELETE_ERRORS})
def console_delete_course(request: HttpRequest, course_id: Id) -> Status[None]:
    """409 ``course_in_use`` once anyone enrolled (set it back to draft instead)."""
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    actions.do_delete_course(shop, selectors.access_course(shop, course_id), actor=request.user, ip=client_ip(request))
    return Status(204, None)


@console.get("/courses/{int:course_id}/lessons", response={200: list[ConsoleLessonOut], **CONSOLE_ERRORS})
def console_lessons(request: HttpRequest, course_id: Id) -> list[ConsoleLessonOut]:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    course = selectors.access_course(shop, course_id)
    return [ConsoleLessonOut.from_model(row, index + 1) for index, row in enumerate(selectors.lessons(course))]


def _lesson_out(lesson_id: int, course: Course) -> ConsoleLessonOut:
    rows = selectors.lessons(course)
    index = next(i for i, row in enumerate(rows) if row.pk == lesson_id)
    return ConsoleLessonOut.from_model(rows[index], index + 1)


@console.post("/courses/{int:course_id}/lessons", response={201: ConsoleLessonOut, **CONSOLE_ERRORS})
def console_create_lesson(
    request: HttpRequest, course_id: Id, body: Form[LessonIn], audio: File[UploadedFile] | None = None
) -> Status[ConsoleLessonOut]:
    """Multipart form (``audio`` file optional; required for an audio lesson)."""
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    course = selectors.access_course(shop, course_id)
    data = actions.LessonInput(
        title=body.title,
        kind=body.kind,
        body=body.body,
        video_url=body.video_url,
        audio=audio,
        audio_duration_seconds=body.audio_duration_seconds,
    )
    lesson = actions.do_create_lesson(shop, course, data, actor=request.user, ip=client_ip(request))
    return Status(201, _lesson_out(lesson.pk, course))


@console.post("/lessons/{int:lesson_id}", response={200: ConsoleLessonOut, **CONSOLE_ERRORS})
def console_update_lesson(
    request: HttpRequest, lesson_id: Id, body: Form[LessonIn], audio: File[UploadedFile] | None = None
) -> ConsoleLessonOut:
    """Multipart form, like creation; an audio file left out keeps the current one."""
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    lesson = selectors.access_lesson(shop, lesson_id)
    data = actions.LessonInput(
        title=body.title,
        kind=body.kind,
        body=body.body,
        video_url=body.video_url,
        audio=audio,
        audio_duration_seconds=body.audio_duration_seconds,
    )
    actions.do_update_lesson(shop, lesson, data, actor=request.user, ip=client_ip(request))
    return _lesson_out(lesson.pk, lesson.course)


@console.delete("/lessons/{int:lesson_id}", response={204: None, **CONSOLE_ERRORS})
def console_delete_lesson(request: HttpRequest, lesson_id: Id) -> Status[None]:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    actions.do_delete_lesson(shop, selectors.access_lesson(shop, lesson_id), actor=request.user, ip=client_ip(request))
    return Status(204, None)


@console.put("/courses/{int:course_id}/lessons/order", response={200: list[ConsoleLessonOut], **CONSOLE_ERRORS})
def console_reorder_lessons(request: HttpRequest, course_id: Id, body: LessonOrderIn) -> list[ConsoleLessonOut]:
    """Every lesson id of the course exactly once, in the new order (422 ``invalid_lesson_order``)."""
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    course = selectors.access_course(shop, course_id)
    ordered = actions.do_reorder_lessons(shop, course, body.lesson_ids, actor=request.user, ip=client_ip(request))
    return [ConsoleLessonOut.from_model(row, index + 1) for index, row in enumerate(ordered)]


@console.get("/courses/{int:course_id}/cohorts", response={200: list[CohortOut], **CONSOLE_ERRORS})
def console_cohorts(request: HttpRequest, course_id: Id) -> list[CohortOut]:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    course = selectors.access_course(shop, course_id)
    return [CohortOut.from_model(c) for c in selectors.course_cohorts(course)]


def _cohort_input(body: CohortIn) -> actions.CohortInput:
    return actions.CohortInput(name=body.name, starts_at=body.starts_at, ends_at=body.ends_at, capacity=body.capacity)


@console.post("/courses/{int:course_id}/cohorts", response={201: CohortOut, **CONSOLE_ERRORS})
def console_create_cohort(request: HttpRequest, course_id: Id, body: CohortIn) -> Status[CohortOut]:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    course = selectors.access_course(shop, course_id)
    cohort = actions.do_create_cohort(shop, course, _cohort_input(body), actor=request.user, ip=client_ip(request))
    return Status(201, CohortOut.from_model(cohort))


@console.put("/cohorts/{int:cohort_id}", response={200: CohortOut, **CONSOLE_ERRORS})
def console_update_cohort(request: HttpRequest, cohort_id: Id, body: CohortIn) -> CohortOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    cohort = selectors.access_cohort(shop, cohort_id)
    updated = actions.do_update_cohort(shop, cohort, _cohort_input(body), actor=request.user, ip=client_ip(request))
    return CohortOut.from_model(updated)


@console.delete("/cohorts/{int:cohort_id}", response={204: None, **CONSOLE_DELETE_ERRORS})
def console_delete_cohort(request: HttpRequest, cohort_id: Id) -> Status[None]:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    actions.do_delete_cohort(shop, selectors.access_cohort(shop, cohort_id), actor=request.user, ip=client_ip(request))
    return Status(204, None)


@console.get("/courses/{int:course_id}/enrolments", response={200: Page[EnrolmentProgressOut], **CONSOLE_ERRORS})
def console_enrolments(request: HttpRequest, course_id: Id, query: Query[EnrolmentQuery]) -> dict:
    """Enrolments, newest first, with lessons done per member; ``status=active|refunded`` filters."""
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    course = selectors.access_course(shop, course_id)
    total = len(selectors.lessons(course))
    page = paginate(selectors.course_enrolments(course, status=query.status), query.page, query.page_size)
    page["items"] = [EnrolmentProgressOut.from_row(row, total) for row in page["items"]]
    return page


router.add_router("/console", console)
