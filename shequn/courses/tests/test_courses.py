"""Members-only access, progress, validation, sanitising, and the console pages of courses."""

import pytest
from django.test import Client

from shequn.communities import actions as community_actions
from shequn.communities.models import CommunityMembership
from shequn.core.models import AuditLog
from shequn.courses import actions
from shequn.courses.enums import CourseStatus, LessonKind
from shequn.courses.errors import InvalidCourse, InvalidLesson
from shequn.courses.models import Course, Lesson
from shequn.testing.money import beside_input, keeps_typed_value, yuan_refusals

from .conftest import api_client, login, make_course

pytestmark = pytest.mark.django_db

JSON = "application/json"


def course_api(community, course):
    return f"/api/v1/courses/communities/{community.pk}/courses/{course.pk}"


def test_progress_counts_done_lessons_once(community, course, member, other_member, operator, console_client):
    actions.do_enrol(member, course)
    actions.do_enrol(other_member, course)
    first = course.lessons.order_by("position").first()
    client = api_client(member)
    url = f"{course_api(community, course)}/lessons/{first.pk}/done"
    assert client.post(url).json() == {"done": 1, "total": 3, "percent": 33, "completed_lesson_ids": [first.pk]}
    assert client.post(url).json()["done"] == 1  # a double tap counts once
    assert client.get(f"{course_api(community, course)}/progress").json()["done"] == 1
    listing = client.get(f"/api/v1/courses/communities/{community.pk}/courses").json()
    assert (listing["count"], listing["items"][0]["lessons_done"], listing["items"][0]["enrolled"]) == (1, 1, True)

    page = login(member).get(f"/c/{community.pk}/courses/{course.pk}/").content.decode()
    assert 'data-testid="progress-count">1/3<' in page
    assert page.count('data-state="done"') == 1
    assert page.count('data-state="locked"') == 2

    # The console shows each member's progress.
    console = console_client.get(f"/console/courses/{course.pk}/enrolments/").content.decode()
    assert console.count('data-testid="enrolment-row"') == 2
    assert 'data-testid="enrolment-progress">1/3<' in console
    assert 'data-testid="enrolment-progress">0/3<' in console
    api = api_client(operator).get(f"/api/v1/courses/console/courses/{course.pk}/enrolments").json()
    assert sorted((row["member_name"], row["lessons_done"], row["lesson_total"]) for row in api["items"]) == [
        ("小王", 1, 3),
        ("老李", 0, 3),
    ]


def test_marking_a_locked_lesson_done_is_refused(community, course, member):
    actions.do_enrol(member, course)
    second = course.lessons.order_by("position")[1]
    response = api_client(member).post(f"{course_api(community, course)}/lessons/{second.pk}/done")
    assert (response.status_code, response.json()["code"]) == (403, "lesson_locked")
    assert course.enrolments.get().progress.count() == 0


def test_enrolling_twice_is_a_conflict_and_the_page_enrols(community, course, member):
    response = login(member).post(f"/c/{community.pk}/courses/{course.pk}/enrol/")
    assert response.status_code == 302
    again = api_client(member).post(f"{course_api(community, course)}/enrol", {}, content_type=JSON)
    assert (again.status_code, again.json()["code"]) == (409, "already_enrolled")
    assert course.enrolments.count() == 1


def test_non_members_and_removed_members_get_404(community, course, member, outsider, operator):
    first = course.lessons.order_by("position").first()
    actions.do_enrol(member, course)
    api_urls = [
        f"/api/v1/courses/communities/{community.pk}/courses",
        course_api(community, course),
        f"{course_api(community, course)}/lessons/{first.pk}",
        f"{course_api(community, course)}/progress",
    ]
    page_urls = [
        f"/c/{community.pk}/courses/",
        f"/c/{community.pk}/courses/{course.pk}/",
        f"/c/{community.pk}/courses/{course.pk}/lessons/{first.pk}/",
    ]
    assert api_client(member).get(api_urls[2]).status_code == 200
    for url in api_urls:
        response = api_client(outsider).get(url)
        assert (response.status_code, response.json()["code"]) == (404, "course_not_found"), url
    for url in page_urls:
        assert login(outsider).get(url).status_code == 404, url
    enrol = api_client(outsider).post(f"{course_api(community, course)}/enrol", {}, content_type=JSON)
    assert enrol.status_code == 404
    assert course.enrolments.filter(user=outsider).count() == 0

    membership = CommunityMembership.objects.get(community=community, user=member)
    community_actions.do_remove_member(community, membership, actor=operator)
    for url in api_urls:
        assert api_client(member).get(url).status_code == 404, url
    for url in page_urls:
        assert login(member).get(url).status_code == 404, url
    # Signed-out visitors are sent to sign in (pages) or refused (API).
    assert Client().get(api_urls[0]).status_code == 401
    assert Client().get(page_urls[0]).status_code == 302


def test_draft_courses_are_invisible_to_members(shop, community, operator, member):
    draft = make_course(shop, community, operator, status=CourseStatus.DRAFT, title="草稿课")
    assert api_client(member).get(course_api(community, draft)).status_code == 404
    assert api_client(member).get(f"/api/v1/courses/communities/{community.pk}/courses").json()["count"] == 0
    assert login(member).get(f"/c/{community.pk}/courses/").content.decode().count('data-testid="course"') == 0


def test_other_shops_staff_see_nothing(community, course, member, other_operator, other_console_client, operator):
    actions.do_enrol(member, course)
    lesson = course.lessons.first()
    cohort = actions.do_create_cohort(
        course.shop,
        make_course(course.shop, community, operator, title="训练营", lessons=1),
        actions.CohortInput(name="第1期", starts_at=_future(10), ends_at=_future(20)),
        actor=operator,
    )
    for url in [
        f"/console/courses/{course.pk}/",
        f"/console/courses/{course.pk}/enrolments/",
        f"/console/courses/lessons/{lesson.pk}/",
        f"/console/courses/{course.pk}/lessons/new/",
    ]:
        assert other_console_client.get(url).status_code == 404, url
    for url in [
        f"/console/courses/{course.pk}/delete/",
        f"/console/courses/lessons/{lesson.pk}/delete/",
        f"/console/courses/cohorts/{cohort.pk}/delete/",
        f"/console/courses/lessons/{lesson.pk}/move/",
    ]:
        assert other_console_client.post(url).status_code == 404, url
    assert Course.objects.filter(pk=course.pk).exists()
    assert Lesson.objects.filter(pk=lesson.pk).exists()
    assert "21 天阅读训练" not in other_console_client.get("/console/courses/").content.decode()

    client = api_client(other_operator)
    base = "/api/v1/courses/console"
    for url in [
        f"{base}/courses/{course.pk}",
        f"{base}/courses/{course.pk}/lessons",
        f"{base}/courses/{course.pk}/enrolments",
    ]:
        response = client.get(url, headers={"X-Shop": "other"})
        assert response.status_code == 404, url
    # Asking for the first shop by its slug: not their shop.
    assert client.get(f"{base}/courses", headers={"X-Shop": "salmon"}).status_code == 404
    assert client.get(f"{base}/courses", headers={"X-Shop": "other"}).json()["count"] == 0
    update = client.put(
        f"{base}/courses/{course.pk}",
        {"community_id": community.pk, "title": "偷改"},
        content_type=JSON,
        headers={"X-Shop": "other"},
    )
    assert update.status_code == 404
    # Creating a course in another shop's community is refused as a field error.
    create = client.post(
        f"{base}/courses", {"community_id": community.pk, "title": "x"}, content_type=JSON, headers={"X-Shop": "other"}
    )
    assert (create.status_code, create.json()["details"]["fields"]["community_id"]) == (422, "请选择社群")
    assert Course.objects.get(pk=course.pk).title == "21 天阅读训练"


def _future(days):
    from datetime import timedelta

    from django.utils import timezone

    return timezone.now() + timedelta(days=days)


def test_validation_names_the_fields(shop, community, course, operator):
    client = api_client(operator)
    base = "/api/v1/courses/console"
    empty = client.post(f"{base}/courses", {"community_id": community.pk, "title": "  "}, content_type=JSON)
    assert empty.status_code == 422
    assert (empty.json()["code"], empty.json()["details"]["fields"]) == ("invalid_course", {"title": "请填写课程名称"})
    paid = client.post(
        f"{base}/courses", {"community_id": community.pk, "title": "付费课", "access": "paid"}, content_type=JSON
    )
    assert paid.json()["details"]["fields"] == {"price_fen": "付费课程请填写大于 0 的价格"}

    video = client.post(
        f"{base}/courses/{course.pk}/lessons",
        {"title": "视频课", "kind": "video", "video_url": "http://v.qq.com/x/1"},
    )
    assert video.status_code == 422
    assert video.json()["code"] == "invalid_lesson"
    assert video.json()["details"]["fields"] == {"video_url": "视频链接需为 https:// 开头的完整网址"}
    for bad in ["javascript:alert(1)", "https://", "ftp://v.qq.com/1"]:
        with pytest.raises(InvalidLesson):
            actions.do_create_lesson(
                shop, course, actions.LessonInput(title="v", kind=LessonKind.VIDEO, video_url=bad), actor=operator
            )
    ok = client.post(
        f"{base}/courses/{course.pk}/lessons",
        {"title": "视频课", "kind": "video", "video_url": "https://v.qq.com/x/1"},
    )
    assert (ok.status_code, ok.json()["number"], ok.json()["video_url"]) == (201, 4, "https://v.qq.com/x/1")
    with pytest.raises(InvalidLesson, match="请填写课时标题"):
        actions.do_create_lesson(shop, course, actions.LessonInput(title="", body="<p>x</p>"), actor=operator)
    with pytest.raises(InvalidLesson, match="请上传音频文件"):
        actions.do_create_lesson(shop, course, actions.LessonInput(title="音频", kind=LessonKind.AUDIO), actor=operator)
    with pytest.raises(InvalidCourse, match="解锁间隔需在 0 到 30 天之间"):
        actions.do_create_course(
            shop, actions.CourseInput(community_id=community.pk, title="x", drip_interval_days=31), actor=operator
        )
    assert course.lessons.count() == 4

    # The console form keeps the input and shows the message.
    response = login(operator).post(
        f"/console/courses/{course.pk}/lessons/new/", {"title": "第四讲", "kind": "video", "video_url": "http://x.cn"}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "视频链接需为 https:// 开头的完整网址" in html
    assert 'value="第四讲"' in html


def test_lesson_bodies_are_sanitised(shop, course, community, member, operator):
    lesson = actions.do_create_lesson(
        shop,
        course,
        actions.LessonInput(
            title="安全", body='<p onclick="x()">好<script>alert(1)</script></p><a href="javascript:alert(1)">链</a>'
        ),
        actor=operator,
    )
    assert lesson.body == '<p>好</p><a rel="noopener">链</a>'


def test_console_pages_create_a_course_add_reorder_lessons_and_a_cohort(shop, community, operator):
    client = login(operator)
    assert client.get("/console/courses/new/").status_code == 200
    response = client.post(
        "/console/courses/new/",
        {
            "community_id": community.pk,
            "title": "摄影入门",
            "access": "members_only",
            "drip_interval_days": "1",
            "status": "published",
        },
    )
    course = Course.objects.get(title="摄影入门")
    assert response.status_code == 302
    assert response["Location"] == f"/console/courses/{course.pk}/"
    for title in ["构图", "光线"]:
        client.post(f"/console/courses/{course.pk}/lessons/new/", {"title": title, "kind": "text", "body": "<p>x</p>"})
    audio = actions.LessonInput(title="音频课", kind=LessonKind.AUDIO, audio=_audio(), audio_duration_seconds=125)
    actions.do_create_lesson(shop, course, audio, actor=operator)
    light = Lesson.objects.get(course=course, title="光线")
    client.post(f"/console/courses/lessons/{light.pk}/move/", {"direction": "up"})
    assert [row.title for row in Lesson.objects.filter(course=course).order_by("position", "id")] == [
        "光线",
        "构图",
        "音频课",
    ]
    page = client.get(f"/console/courses/{course.pk}/").content.decode()
    assert page.index("光线") < page.index("构图")
    response = client.post(
        f"/console/courses/{course.pk}/cohorts/",
        {"name": "第1期", "starts_at": "2099-01-01T09:00", "ends_at": "2098-12-01T09:00"},
    )
    assert response.status_code == 422
    assert "结营时间需晚于开营时间" in response.content.decode()
    client.post(
        f"/console/courses/{course.pk}/cohorts/",
        {"name": "第1期", "starts_at": "2099-01-01T09:00", "ends_at": "2099-01-21T21:00", "capacity": "30"},
    )
    assert course.cohorts.get().capacity == 30
    actions_logged = set(AuditLog.objects.filter(shop=shop).values_list("action", flat=True))
    assert {"courses.course_create", "courses.lesson_create", "courses.lessons_reorder", "courses.cohort_create"} <= (
        actions_logged
    )
    assert "摄影入门" in client.get("/console/courses/").content.decode()


def _audio():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("lesson.mp3", b"ID3" + b"\0" * 64, content_type="audio/mpeg")


def test_audio_is_served_only_to_enrolled_members_of_open_lessons(shop, community, operator, member, other_member):
    course = make_course(shop, community, operator, lessons=0, drip_interval_days=1)
    first = actions.do_create_lesson(
        shop, course, actions.LessonInput(title="音频", kind=LessonKind.AUDIO, audio=_audio()), actor=operator
    )
    second = actions.do_create_lesson(
        shop, course, actions.LessonInput(title="音频2", kind=LessonKind.AUDIO, audio=_audio()), actor=operator
    )
    actions.do_enrol(member, course)
    url = f"/c/{community.pk}/courses/{course.pk}/lessons/{{}}/audio/"
    response = login(member).get(url.format(first.pk))
    assert response.status_code == 200
    assert response.getvalue().startswith(b"ID3")
    assert login(member).get(url.format(second.pk)).status_code == 403  # locked until day 2
    assert login(other_member).get(url.format(first.pk)).status_code == 403  # not enrolled
    assert (
        "/media/"
        not in login(member).get(f"/c/{community.pk}/courses/{course.pk}/lessons/{first.pk}/").content.decode()
    )


def test_a_course_with_enrolments_cannot_be_deleted(course, member, operator):
    actions.do_enrol(member, course)
    response = api_client(operator).delete(f"/api/v1/courses/console/courses/{course.pk}")
    assert (response.status_code, response.json()["code"]) == (409, "course_in_use")
    assert Course.objects.filter(pk=course.pk).exists()


def test_reorder_over_the_api_requires_every_lesson(course, operator):
    ids = list(course.lessons.order_by("position").values_list("pk", flat=True))
    client = api_client(operator)
    url = f"/api/v1/courses/console/courses/{course.pk}/lessons/order"
    bad = client.put(url, {"lesson_ids": ids[:2]}, content_type=JSON)
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_lesson_order")
    good = client.put(url, {"lesson_ids": list(reversed(ids))}, content_type=JSON)
    assert [row["id"] for row in good.json()] == list(reversed(ids))
    assert [row["number"] for row in good.json()] == [1, 2, 3]


def test_every_course_route_declares_its_errors(db):
    schema = Client().get("/api/v1/openapi.json").json()
    paths = {path: ops for path, ops in schema["paths"].items() if path.startswith("/api/v1/courses")}
    assert len(paths) == 14
    for path, operations in paths.items():
        for method, operation in operations.items():
            declared = {str(status) for status in operation["responses"]}
            assert {"401", "404", "422"} <= declared, (method, path, declared)


def _paid_course_form(community, price: str) -> dict:
    return {
        "community_id": community.pk,
        "title": "写作课",
        "access": "paid",
        "price": price,
        "drip_interval_days": "1",
        "status": "draft",
    }


@pytest.mark.parametrize(("typed", "message"), yuan_refusals(max_fen=actions.PRICE_MAX_FEN))
def test_a_course_price_that_cannot_be_read_is_an_error_beside_the_field(community, operator, typed, message):
    response = login(operator).post("/console/courses/new/", _paid_course_form(community, typed))
    assert response.status_code == 422
    html = response.content.decode()
    assert message in beside_input(html, "price")
    assert keeps_typed_value(html, "price", typed)
    assert keeps_typed_value(html, "title", "写作课")
    assert not Course.objects.exists()


def test_a_course_price_in_yuan_is_saved_in_fen_and_shown_back(community, operator):
    client = login(operator)
    assert client.post("/console/courses/new/", _paid_course_form(community, "35.90")).status_code == 302
    course = Course.objects.get(title="写作课")
    assert course.price_fen == 3590
    assert keeps_typed_value(client.get(f"/console/courses/{course.pk}/").content.decode(), "price", "35.90")
