"""Member pages of courses (list, course, lesson, audio) and their console pages (courses,
lessons, cohorts, enrolments with progress). Thin: parse, call one action, render."""

import mimetypes
import os
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shequn.core.audit import client_ip
from shequn.core.errors import DomainError
from shequn.core.money import format_yuan_input, parse_yuan
from shequn.core.pages import field_errors, int_or_none
from shequn.core.ranges import ranged_file_response
from shequn.shops.console import console_view
from shequn.shops.permissions import MANAGE_COMMUNITIES

from . import actions, selectors
from .enums import CourseAccess, CourseStatus, EnrolmentStatus, LessonKind
from .errors import InvalidCohort, LessonNotFound
from .models import Cohort, Course, Lesson

PAGE_SIZE = 20


# --- members -----------------------------------------------------------------------


@require_GET
def course_list(request: HttpRequest, community_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    community = selectors.access_member_community(request.user, community_id)
    courses = list(selectors.published_courses(community))
    ids = [course.pk for course in courses]
    counts, mine = selectors.lesson_counts(ids), selectors.enrolments_by_course(request.user, ids)
    rows = [
        {"course": course, "lesson_count": counts.get(course.pk, 0), "enrolment": mine.get(course.pk)}
        for course in courses
    ]
    return render(request, "courses/course_list.html", {"community": community, "rows": rows})


def _render_course(request: HttpRequest, course: Course, *, status: int = 200, error: str = "") -> HttpResponse:
    enrolment = selectors.active_enrolment(request.user, course)
    states = selectors.lesson_states(course, enrolment)
    done = sum(1 for state in states if state.is_done)
    cohorts = selectors.enrollable_cohorts(course)
    runs_in_cohorts = selectors.has_cohorts(course)
    sku = selectors.self_paced_sku(course) if course.is_paid and not runs_in_cohorts else None
    return render(
        request,
        "courses/course_detail.html",
        {
            "community": course.community,
            "course": course,
            "enrolment": enrolment,
            "states": states,
            "progress": selectors.Progress(done=done, total=len(states)),
            "cohorts": cohorts,
            "runs_in_cohorts": runs_in_cohorts,
            "sku": sku,
            "error": error,
        },
        status=status,
    )


@require_GET
def course_detail(request: HttpRequest, community_id: int, course_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return _render_course(request, selectors.access_member_course(request.user, community_id, course_id))


@require_POST
def course_enrol(request: HttpRequest, community_id: int, course_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("courses:course_detail", args=[community_id, course_id]))
    course = selectors.access_member_course(request.user, community_id, course_id)
    try:
        actions.do_enrol(request.user, course, cohort_id=int_or_none(request.POST.get("cohort_id")))
    except DomainError as error:
        return _render_course(request, course, status=error.status, error=error.message)
    messages.success(request, _("报名成功，开始学习吧"))
    return redirect("courses:course_detail", community_id=community_id, course_id=course_id)


@require_GET
def lesson_detail(request: HttpRequest, community_id: int, course_id: int, lesson_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    course, state = selectors.access_member_lesson(request.user, community_id, course_id, lesson_id)
    states = selectors.lesson_states(course, selectors.active_enrolment(request.user, course))
    index = next(i for i, row in enumerate(states) if row.lesson.pk == state.lesson.pk)
    return render(
        request,
        "courses/lesson_detail.html",
        {
            "community": course.community,
            "course": course,
            "state": state,
            "lesson": state.lesson,
            "previous": states[index - 1] if index > 0 else None,
            "next": states[index + 1] if index + 1 < len(states) else None,
        },
    )


@require_POST
def lesson_done(request: HttpRequest, community_id: int, course_id: int, lesson_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("courses:lesson_detail", args=[community_id, course_id, lesson_id]))
    course, state = selectors.access_member_lesson(request.user, community_id, course_id, lesson_id)
    progress = actions.do_mark_done(request.user, course, state.lesson)
    messages.success(request, _("已完成，进度 %(done)s/%(total)s") % {"done": progress.done, "total": progress.total})
    return redirect("courses:lesson_detail", community_id=community_id, course_id=course_id, lesson_id=lesson_id)


@require_GET
def lesson_audio(request: HttpRequest, community_id: int, course_id: int, lesson_id: int) -> HttpResponseBase:
    """The lesson's audio, only for enrolled members once the lesson is open."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    _course, state = selectors.access_member_lesson(request.user, community_id, course_id, lesson_id)
    if not state.lesson.audio:
        raise LessonNotFound(_("本课没有音频"))
    audio = state.lesson.audio
    name = os.path.basename(audio.name or "")
    response = ranged_file_response(
        audio.open("rb"),
        size=audio.size,
        range_header=request.headers.get("Range"),
        if_range=request.headers.get("If-Range"),
        content_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
        filename=name,
    )
    response["Cache-Control"] = "private, no-store"
    return response


# --- console -----------------------------------------------------------------------


def _shop(request: HttpRequest) -> Any:
    return request.console_shop  # type: ignore[attr-defined]


@console_view(MANAGE_COMMUNITIES)
@require_GET
def console_courses(request: HttpRequest) -> HttpResponse:
    shop = _shop(request)
    community_id = int_or_none(request.GET.get("community"))
    courses = selectors.shop_courses(shop, community_id=community_id)
    return render(
        request,
        "courses/console/courses.html",
        {
            "page_obj": Paginator(courses, PAGE_SIZE).get_page(request.GET.get("page")),
            "communities": selectors.shop_communities(shop),
            "community_id": community_id,
        },
    )


def _course_values(request: HttpRequest) -> dict[str, Any]:
    post = request.POST
    return {
        "community_id": int_or_none(post.get("community_id")),
        "title": post.get("title") or "",
        "description": post.get("description") or "",
        "access": post.get("access") or CourseAccess.MEMBERS_ONLY,
        "price": post.get("price") or "",
        "drip_interval_days": post.get("drip_interval_days") or "",
        "status": post.get("status") or CourseStatus.DRAFT,
        "position": post.get("position") or "0",
    }


def _course_input(request: HttpRequest, values: dict[str, Any]) -> actions.CourseInput:
    price_fen = parse_yuan(values["price"], max_fen=actions.PRICE_MAX_FEN, required=False, field="price_fen")
    drip = int_or_none(values["drip_interval_days"])
    return actions.CourseInput(
        community_id=values["community_id"],
        title=values["title"],
        description=values["description"],
        access=values["access"],
        price_fen=price_fen,
        drip_interval_days=-1 if drip is None else drip,
        status=values["status"],
        position=int_or_none(values["position"]) or 0,
        cover=request.FILES.get("cover"),
    )


def _course_form_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    return {
        "communities": selectors.shop_communities(_shop(request)),
        "accesses": CourseAccess.choices,
        "statuses": CourseStatus.choices,
        **extra,
    }


@console_view(MANAGE_COMMUNITIES)
@require_http_methods(["GET", "POST"])
def console_course_new(request: HttpRequest) -> HttpResponse:
    shop = _shop(request)
    values: dict[str, Any] = {
        "community_id": int_or_none(request.GET.get("community")),
        "title": "",
        "description": "",
        "access": CourseAccess.MEMBERS_ONLY,
        "price": "",
        "drip_interval_days": "1",
        "status": CourseStatus.DRAFT,
        "position": "0",
    }
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = _course_values(request)
        try:
            course = actions.do_create_course(
                shop, _course_input(request, values), actor=request.user, ip=client_ip(request)
            )
        except DomainError as error:
            errors, status = field_errors(error) or {"title": error.message}, error.status
        else:
            messages.success(request, _("已创建课程「%(title)s」，接着添加课时吧") % {"title": course.title})
            return redirect("courses:console_course", course_id=course.pk)
    return render(
        request,
        "courses/console/course_form.html",
        _course_form_context(request, values=values, errors=errors, course=None),
        status=status,
    )


def _values_of(course: Course) -> dict[str, Any]:
    return {
        "community_id": course.community_id,
        "title": course.title,
        "description": course.description,
        "access": course.access,
        "price": format_yuan_input(course.price_fen),
        "drip_interval_days": str(course.drip_interval_days),
        "status": course.status,
        "position": str(course.position),
    }


def _render_console_course(
    request: HttpRequest,
    course: Course,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    cohort_errors: dict[str, str] | None = None,
    cohort_values: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    rows = selectors.lessons(course)
    return render(
        request,
        "courses/console/course_form.html",
        _course_form_context(
            request,
            course=course,
            values=values or _values_of(course),
            errors=errors or {},
            lessons=list(enumerate(rows, start=1)),
            cohorts=selectors.course_cohorts(course),
            cohort_errors=cohort_errors or {},
            cohort_values=cohort_values or {},
            enrolment_count=course.enrolments.filter(status=EnrolmentStatus.ACTIVE).count(),
        ),
        status=status,
    )


@console_view(MANAGE_COMMUNITIES)
@require_http_methods(["GET", "POST"])
def console_course(request: HttpRequest, course_id: int) -> HttpResponse:
    shop = _shop(request)
    course = selectors.access_course(shop, course_id)
    if request.method == "POST":
        values = _course_values(request)
        try:
            actions.do_update_course(
                shop, course, _course_input(request, values), actor=request.user, ip=client_ip(request)
            )
        except DomainError as error:
            return _render_console_course(
                request,
                course,
                values=values,
                errors=field_errors(error) or {"title": error.message},
                status=error.status,
            )
        messages.success(request, _("课程已保存"))
        return redirect("courses:console_course", course_id=course.pk)
    return _render_console_course(request, course)


@console_view(MANAGE_COMMUNITIES)
@require_POST
def console_course_delete(request: HttpRequest, course_id: int) -> HttpResponse:
    shop = _shop(request)
    course = selectors.access_course(shop, course_id)
    try:
        actions.do_delete_course(shop, course, actor=request.user, ip=client_ip(request))
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("courses:console_course", course_id=course.pk)
    messages.success(request, _("课程已删除"))
    return redirect("courses:console_courses")


def _lesson_values(request: HttpRequest) -> dict[str, Any]:
    post = request.POST
    return {
        "title": post.get("title") or "",
        "kind": post.get("kind") or LessonKind.TEXT,
        "body": post.get("body") or "",
        "video_url": post.get("video_url") or "",
        "audio_duration_seconds": post.get("audio_duration_seconds") or "",
    }


def _lesson_input(request: HttpRequest, values: dict[str, Any]) -> actions.LessonInput:
    return actions.LessonInput(
        title=values["title"],
        kind=values["kind"],
        body=values["body"],
        video_url=values["video_url"],
        audio=request.FILES.get("audio"),
        audio_duration_seconds=int_or_none(values["audio_duration_seconds"]),
    )


def _render_lesson_form(
    request: HttpRequest,
    course: Course,
    lesson: Lesson | None,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int,
) -> HttpResponse:
    return render(
        request,
        "courses/console/lesson_form.html",
        {"course": course, "lesson": lesson, "values": values, "errors": errors, "kinds": LessonKind.choices},
        status=status,
    )


@console_view(MANAGE_COMMUNITIES)
@require_http_methods(["GET", "POST"])
def console_lesson_new(request: HttpRequest, course_id: int) -> HttpResponse:
    shop = _shop(request)
    course = selectors.access_course(shop, course_id)
    values: dict[str, Any] = {
        "title": "",
        "kind": LessonKind.TEXT,
        "body": "",
        "video_url": "",
        "audio_duration_seconds": "",
    }
    if request.method == "POST":
        values = _lesson_values(request)
        try:
            actions.do_create_lesson(
                shop, course, _lesson_input(request, values), actor=request.user, ip=client_ip(request)
            )
        except DomainError as error:
            return _render_lesson_form(request, course, None, values, field_errors(error), error.status)
        messages.success(request, _("课时已添加"))
        return redirect("courses:console_course", course_id=course.pk)
    return _render_lesson_form(request, course, None, values, {}, 200)


@console_view(MANAGE_COMMUNITIES)
@require_http_methods(["GET", "POST"])
def console_lesson(request: HttpRequest, lesson_id: int) -> HttpResponse:
    shop = _shop(request)
    lesson = selectors.access_lesson(shop, lesson_id)
    values: dict[str, Any] = {
        "title": lesson.title,
        "kind": lesson.kind,
        "body": lesson.body,
        "video_url": lesson.video_url,
        "audio_duration_seconds": "" if lesson.audio_duration_seconds is None else str(lesson.audio_duration_seconds),
    }
    if request.method == "POST":
        values = _lesson_values(request)
        try:
            actions.do_update_lesson(
                shop, lesson, _lesson_input(request, values), actor=request.user, ip=client_ip(request)
            )
        except DomainError as error:
            return _render_lesson_form(request, lesson.course, lesson, values, field_errors(error), error.status)
        messages.success(request, _("课时已保存"))
        return redirect("courses:console_course", course_id=lesson.course_id)
    return _render_lesson_form(request, lesson.course, lesson, values, {}, 200)


@console_view(MANAGE_COMMUNITIES)
@require_POST
def console_lesson_move(request: HttpRequest, lesson_id: int) -> HttpResponse:
    shop = _shop(request)
    lesson = selectors.access_lesson(shop, lesson_id)
    step = -1 if request.POST.get("direction") == "up" else 1
    actions.do_move_lesson(shop, lesson, step, actor=request.user, ip=client_ip(request))
    return redirect(reverse("courses:console_course", args=[lesson.course_id]) + "#lessons")


@console_view(MANAGE_COMMUNITIES)
@require_POST
def console_lesson_delete(request: HttpRequest, lesson_id: int) -> HttpResponse:
    shop = _shop(request)
    lesson = selectors.access_lesson(shop, lesson_id)
    actions.do_delete_lesson(shop, lesson, actor=request.user, ip=client_ip(request))
    messages.success(request, _("已删除课时「%(title)s」") % {"title": lesson.title})
    return redirect(reverse("courses:console_course", args=[lesson.course_id]) + "#lessons")


def _parse_local(value: str | None) -> datetime | None:
    """A datetime-local input (naive, the shop's local time) as an aware datetime."""
    parsed = parse_datetime(value or "")
    if parsed is None:
        return None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def _cohort_input(request: HttpRequest) -> tuple[actions.CohortInput, dict[str, str]]:
    post = request.POST
    values = {key: post.get(key) or "" for key in ("name", "starts_at", "ends_at", "capacity")}
    capacity = int_or_none(values["capacity"])
    if values["capacity"].strip() and capacity is None:
        message = _("名额需为整数，不限名额请留空")
        raise InvalidCohort(message, details={"fields": {"capacity": message}})
    data = actions.CohortInput(
        name=values["name"],
        starts_at=_parse_local(values["starts_at"]),
        ends_at=_parse_local(values["ends_at"]),
        capacity=capacity,
    )
    return data, values


@console_view(MANAGE_COMMUNITIES)
@require_POST
def console_cohort_create(request: HttpRequest, course_id: int) -> HttpResponse:
    shop = _shop(request)
    course = selectors.access_course(shop, course_id)
    values = {key: request.POST.get(key) or "" for key in ("name", "starts_at", "ends_at", "capacity")}
    try:
        data, values = _cohort_input(request)
        cohort = actions.do_create_cohort(shop, course, data, actor=request.user, ip=client_ip(request))
    except DomainError as error:
        return _render_console_course(
            request,
            course,
            cohort_errors=field_errors(error) or {"name": error.message},
            cohort_values=values,
            status=error.status,
        )
    messages.success(request, _("已添加期次「%(name)s」") % {"name": cohort.name})
    return redirect(reverse("courses:console_course", args=[course.pk]) + "#cohorts")


@console_view(MANAGE_COMMUNITIES)
@require_POST
def console_cohort_update(request: HttpRequest, cohort_id: int) -> HttpResponse:
    shop = _shop(request)
    cohort: Cohort = selectors.access_cohort(shop, cohort_id)
    try:
        data, _values = _cohort_input(request)
        actions.do_update_cohort(shop, cohort, data, actor=request.user, ip=client_ip(request))
    except DomainError as error:
        messages.error(request, _("「%(name)s」未保存：%(message)s") % {"name": cohort.name, "message": error.message})
    else:
        messages.success(request, _("期次已保存"))
    return redirect(reverse("courses:console_course", args=[cohort.course_id]) + "#cohorts")


@console_view(MANAGE_COMMUNITIES)
@require_POST
def console_cohort_delete(request: HttpRequest, cohort_id: int) -> HttpResponse:
    shop = _shop(request)
    cohort = selectors.access_cohort(shop, cohort_id)
    try:
        actions.do_delete_cohort(shop, cohort, actor=request.user, ip=client_ip(request))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("已删除期次「%(name)s」") % {"name": cohort.name})
    return redirect(reverse("courses:console_course", args=[cohort.course_id]) + "#cohorts")


@console_view(MANAGE_COMMUNITIES)
@require_GET
def console_enrolments(request: HttpRequest, course_id: int) -> HttpResponse:
    shop = _shop(request)
    course = selectors.access_course(shop, course_id)
    status = request.GET.get("status") or ""
    if status not in EnrolmentStatus.values:
        status = ""
    rows = selectors.course_enrolments(course, status=status)
    return render(
        request,
        "courses/console/enrolments.html",
        {
            "course": course,
            "page_obj": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
            "lesson_total": len(selectors.lessons(course)),
            "status": status,
            "statuses": EnrolmentStatus.choices,
        },
    )
