"""In Chromium: an operator builds a course in the console (course, lessons, publish); a member
finds it in the community's course list, enrols, studies lesson 1 and marks it done, sees
lesson 2 locked until tomorrow, and the operator sees the member's progress."""

import os
from datetime import timedelta

import pytest
from django.utils import timezone

from shequn.courses import actions
from shequn.courses.enums import CourseAccess, CourseStatus, EnrolmentSource
from shequn.courses.models import Course, Enrolment
from shequn.shops.enums import StaffRole
from shequn.testing.factories import CommunityFactory, MembershipFactory, ShopFactory, StaffFactory, UserFactory
from shequn.testing.payments import sandbox, sandbox_key_dir

__all__ = ["sandbox", "sandbox_key_dir"]

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOTS = os.environ.get("SHEQUN_SCREENSHOTS")  # a folder to keep screenshots in, for a look


def shot(page, name):
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"courses-{name}.png"), full_page=True)


def test_operator_builds_a_course_and_a_member_studies_it(signed_in_page):
    shop = ShopFactory.create(slug="reading", name="张江书店")
    community = CommunityFactory.create(shop=shop, name="张江读书会", invite_code="reading-2026")
    operator = StaffFactory.create(shop=shop, role=StaffRole.OPERATOR).user
    member = UserFactory.create(nickname="小王")
    MembershipFactory.create(community=community, user=member)

    console = signed_in_page(operator, viewport={"width": 1280, "height": 900})
    console.goto("/console/courses/")
    console.get_by_test_id("new-course").click()
    console.get_by_label("社群").select_option(label="张江读书会")
    console.get_by_test_id("course-save").click()
    assert console.get_by_test_id("error-title").inner_text() == "请填写课程名称"
    console.get_by_test_id("course-title-input").fill("21 天阅读训练")
    console.get_by_label("状态").select_option(label="已发布")
    console.get_by_test_id("course-save").click()
    course = Course.objects.get(title="21 天阅读训练")
    for number in (1, 2, 3):
        console.get_by_test_id("new-lesson").click()
        console.get_by_test_id("lesson-title-input").fill(f"第{number}讲")
        console.get_by_label("正文").fill(f"<p>今天读第{number}章</p><script>alert(1)</script>")
        console.get_by_test_id("lesson-save").click()
    assert console.get_by_test_id("lesson-row").count() == 3
    shot(console, "console-course")

    page = signed_in_page(member)
    page.goto(f"/c/{community.pk}/courses/")
    page.get_by_test_id("course-title").click()
    assert page.get_by_test_id("lesson-state").nth(1).inner_text() == "报名后学习"
    page.get_by_test_id("enrol").click()
    page.get_by_test_id("progress-count").wait_for()
    assert page.get_by_test_id("progress-count").inner_text() == "0/3"
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert page.get_by_test_id("lesson-state").nth(1).inner_text() == (
        f"第2天解锁（{tomorrow.month:02d}月{tomorrow.day:02d}日）"
    )
    shot(page, "course")
    page.get_by_test_id("lesson-title").first.click()
    assert page.get_by_test_id("lesson-body").inner_text() == "今天读第1章"
    assert "第2天解锁" in page.get_by_test_id("next-locked").inner_text()
    page.get_by_test_id("mark-done").click()
    page.get_by_test_id("lesson-done").wait_for()
    shot(page, "lesson")
    page.goto(f"/c/{community.pk}/courses/{course.pk}/")
    assert page.get_by_test_id("progress-count").inner_text() == "1/3"

    console.goto(f"/console/courses/{course.pk}/enrolments/")
    assert console.get_by_test_id("enrolment-progress").inner_text() == "1/3"
    assert Enrolment.objects.get(course=course).user == member


def test_a_member_buys_a_camp_at_the_checkout_and_lands_on_the_course(signed_in_page, sandbox):
    shop = ShopFactory.create(slug="bakery", name="张江烘焙坊")
    community = CommunityFactory.create(shop=shop, name="烘焙爱好者", invite_code="bakery-2026")
    operator = StaffFactory.create(shop=shop, role=StaffRole.OPERATOR).user
    member = UserFactory.create(nickname="小王")
    MembershipFactory.create(community=community, user=member)
    camp = actions.do_create_course(
        shop,
        actions.CourseInput(
            community_id=community.pk,
            title="21 天家庭烘焙训练营",
            access=CourseAccess.PAID,
            price_fen=19900,
            status=CourseStatus.PUBLISHED,
        ),
        actor=operator,
    )
    actions.do_create_lesson(shop, camp, actions.LessonInput(title="开营", body="<p>工具</p>"), actor=operator)
    starts = timezone.now() + timedelta(days=3)
    actions.do_create_cohort(
        shop,
        camp,
        actions.CohortInput(name="第1期", starts_at=starts, ends_at=starts + timedelta(days=21), capacity=30),
        actor=operator,
    )

    page = signed_in_page(member)
    page.goto(f"/c/{community.pk}/courses/{camp.pk}/")
    assert page.get_by_test_id("course-price").inner_text() == "¥199.00"
    shot(page, "camp")
    page.get_by_test_id("buy-cohort").click()
    page.wait_for_url("**/checkout/**")
    assert page.get_by_test_id("total-none").inner_text() == "¥199.00"
    shot(page, "camp-checkout")
    page.get_by_test_id("submit-order").click()
    if "/sandbox-pay/" not in page.url:
        page.get_by_test_id("pay-button").click()
    page.wait_for_url("**/sandbox-pay/**")
    page.get_by_test_id("pay-confirm").click()
    page.wait_for_url(f"**/c/{community.pk}/courses/{camp.pk}/")
    assert page.get_by_test_id("my-cohort").inner_text().startswith("第1期")
    assert page.get_by_test_id("progress-count").inner_text() == "0/1"
    shot(page, "camp-enrolled")
    enrolment = Enrolment.objects.select_related("cohort").get(course=camp, user=member)
    cohort = enrolment.cohort
    assert cohort is not None
    assert (enrolment.source, cohort.name, cohort.seats_taken) == (EnrolmentSource.PAID, "第1期", 1)
