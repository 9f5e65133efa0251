"""Paid courses through the real order and payment flow (sandbox gateway): the course's
product and seats, enrolment when paid, refund rules, and a refund ending access once."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.utils import timezone

from shequn.catalog.kinds import rules_for
from shequn.catalog.models import Sku
from shequn.courses import actions
from shequn.courses.enums import CourseAccess, EnrolmentSource, EnrolmentStatus
from shequn.courses.errors import InvalidCohort
from shequn.courses.models import Cohort, Enrolment
from shequn.notifications.models import Notification
from shequn.testing.factories import MembershipFactory, UserFactory
from shequn.testing.payments import sandbox, sandbox_key_dir

from .conftest import api_client, login, make_course

__all__ = ["sandbox", "sandbox_key_dir"]

pytestmark = pytest.mark.django_db

JSON = "application/json"
PRICE = 19900


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def camp(shop, community, operator):
    """A paid 训练营 (¥199) with one cohort of 2 seats starting in 3 days."""
    course = make_course(shop, community, operator, title="写作训练营", access=CourseAccess.PAID, price_fen=PRICE)
    start = timezone.now() + timedelta(days=3)
    actions.do_create_cohort(
        shop,
        course,
        actions.CohortInput(name="第1期", starts_at=start, ends_at=start + timedelta(days=21), capacity=2),
        actor=operator,
    )
    return course


def create_order(user, sku_id):
    return api_client(user).post(
        "/api/v1/orders",
        {"sku_id": sku_id, "quantity": 1, "fulfilment": "none", "payment_method": "sandbox"},
        content_type=JSON,
    )


def pay(user, number, commit):
    """Start paying and confirm on the sandbox cashier page, as the member does."""
    pay_url = api_client(user).post(f"/api/v1/payments/orders/{number}/pay").json()["pay_url"]
    with commit():
        return login(user).post(urlsplit(pay_url).path, {"action": "confirm"})


def buy(user, sku_id, commit):
    created = create_order(user, sku_id)
    assert created.status_code == 201, created.content
    return created.json(), pay(user, created.json()["number"], commit)


def test_the_course_owns_a_product_with_one_sku_per_open_cohort(camp):
    cohort = camp.cohorts.get()
    sku = Sku.objects.get(pk=cohort.sku_id)
    assert (sku.product_id, sku.product.kind, sku.product.on_shelf) == (camp.product_id, "course", True)
    assert (sku.spec, sku.price_fen, sku.stock) == ("第1期", PRICE, 2)


def test_a_member_buys_the_camp_through_a_real_order_and_is_enrolled(
    sandbox, commit, camp, community, member, other_member
):
    cohort = camp.cohorts.get()
    page = login(member).get(f"/c/{community.pk}/courses/{camp.pk}/").content.decode()
    assert "¥199.00" in page
    assert f"/checkout/?sku={cohort.sku_id}&amp;quantity=1" in page
    free = api_client(member).post(
        f"/api/v1/courses/communities/{community.pk}/courses/{camp.pk}/enrol", {}, content_type=JSON
    )
    assert (free.status_code, free.json()["code"]) == (409, "purchase_required")

    order, paid = buy(member, cohort.sku_id, commit)
    assert (order["kind"], order["total_fen"], order["shipping_fee_fen"]) == ("course", PRICE, 0)
    assert paid.status_code == 302
    assert paid["Location"] == f"/c/{community.pk}/courses/{camp.pk}/"  # landing_url
    enrolment = Enrolment.objects.get(course=camp, user=member)
    assert (enrolment.status, enrolment.source, enrolment.cohort_id) == (
        EnrolmentStatus.ACTIVE,
        EnrolmentSource.PAID,
        cohort.pk,
    )
    assert api_client(member).get(f"/api/v1/orders/{order['number']}").json()["status"] == "completed"
    assert enrolment.order_id is not None
    cohort.refresh_from_db()
    assert (cohort.seats_taken, Sku.objects.get(pk=cohort.sku_id).stock) == (1, 1)
    assert Notification.objects.filter(user=member, kind="courses.enrolled", title="报名成功：写作训练营").count() == 1

    again = create_order(member, cohort.sku_id)
    assert (again.status_code, again.json()["code"]) == (409, "already_enrolled")
    # The last seat goes to another member; then the camp is full.
    buy(other_member, cohort.sku_id, commit)
    third = UserFactory.create()
    MembershipFactory.create(community=community, user=third)
    full = create_order(third, cohort.sku_id)
    assert (full.status_code, full.json()["code"]) == (409, "cohort_full")
    assert Cohort.objects.get(pk=cohort.pk).seats_taken == 2


def test_non_members_cannot_buy_and_started_cohorts_are_closed(sandbox, camp, member, outsider, time_machine):
    cohort = camp.cohorts.get()
    refused = create_order(outsider, cohort.sku_id)
    assert (refused.status_code, refused.json()["code"]) == (404, "course_not_found")
    time_machine.move_to(cohort.starts_at + timedelta(minutes=1), tick=False)
    closed = create_order(member, cohort.sku_id)
    assert (closed.status_code, closed.json()["code"]) == (409, "enrolment_closed")
    assert closed.json()["message"] == "「第1期」已开营，报名已截止"
    assert Sku.objects.get(pk=cohort.sku_id).stock == 2


def test_two_paid_orders_give_one_enrolment_and_the_second_is_refunded(sandbox, commit, camp, member):
    cohort = camp.cohorts.get()
    first = create_order(member, cohort.sku_id).json()
    second = create_order(member, cohort.sku_id).json()  # both created before either was paid
    assert Sku.objects.get(pk=cohort.sku_id).stock == 0
    pay(member, first["number"], commit)
    pay(member, second["number"], commit)
    enrolment = Enrolment.objects.get(course=camp, user=member)
    assert enrolment.status == EnrolmentStatus.ACTIVE
    second_order = api_client(member).get(f"/api/v1/orders/{second['number']}").json()
    assert second_order["lines"][0]["refunded_fen"] == PRICE
    refunds = api_client(member).get("/api/v1/orders/refunds").json()["items"]
    assert [(r["order_number"], r["status"], r["reason"]) for r in refunds] == [
        (second["number"], "refunded", "你已报名该课程，本单将全额退款")
    ]
    # The refunded order's unit is for sale again; the enrolment of the first order stays.
    assert (Cohort.objects.get(pk=cohort.pk).seats_taken, Sku.objects.get(pk=cohort.sku_id).stock) == (1, 1)
    assert Enrolment.objects.get(pk=enrolment.pk).status == EnrolmentStatus.ACTIVE


def test_a_refund_ends_access_exactly_once(sandbox, commit, shop, community, operator, member):
    course = make_course(shop, community, operator, title="自学课", access=CourseAccess.PAID, price_fen=PRICE)
    sku = Sku.objects.get(product_id=course.product_id)
    assert (sku.spec, sku.stock) == ("课程报名", actions.UNLIMITED_SEATS)
    order, _ = buy(member, sku.pk, commit)
    base = f"/api/v1/courses/communities/{community.pk}/courses/{course.pk}"
    first = course.lessons.order_by("position").first()
    assert api_client(member).get(f"{base}/lessons/{first.pk}").status_code == 200

    line = order["lines"][0]
    with commit():
        refund = api_client(member).post(
            f"/api/v1/orders/{order['number']}/refunds",
            {"line_id": line["id"], "amount_fen": PRICE, "reason": "时间不够"},
            content_type=JSON,
        )
    assert refund.status_code == 201
    # No lesson was done: approved by rule, paid back by the gateway, access ended.
    assert api_client(member).get("/api/v1/orders/refunds").json()["items"][0]["status"] == "refunded"
    enrolment = Enrolment.objects.get(course=course, user=member)
    assert enrolment.status == EnrolmentStatus.REFUNDED
    assert enrolment.refunded_at is not None
    locked_out = api_client(member).get(f"{base}/lessons/{first.pk}")
    assert (locked_out.status_code, locked_out.json()["code"]) == (403, "not_enrolled")
    assert api_client(member).get(base).json()["enrolled"] is False

    # The refunded hook running again (a repeated confirmation) changes nothing.
    paid_order = apps.get_model("orders", "Order").objects.get(number=order["number"])
    paid_line = paid_order.lines.get()
    assert paid_line.refunded_fen == PRICE
    rules_for("course").refunded(paid_order, paid_line, PRICE)
    assert actions.end_paid_enrolment(paid_order, paid_line, PRICE) is False
    assert Enrolment.objects.get(course=course, user=member).refunded_at == enrolment.refunded_at

    # Bought again later: a fresh enrolment on the same row.
    buy(member, sku.pk, commit)
    assert Enrolment.objects.get(course=course, user=member).status == EnrolmentStatus.ACTIVE


def test_refund_rules_after_study_and_after_seven_days(
    sandbox, commit, shop, community, operator, member, time_machine
):
    course = make_course(
        shop, community, operator, title="速成课", access=CourseAccess.PAID, price_fen=PRICE, drip_interval_days=0
    )
    sku = Sku.objects.get(product_id=course.product_id)
    order, _ = buy(member, sku.pk, commit)
    line_id = order["lines"][0]["id"]
    first, second, _ = course.lessons.order_by("position")

    def ask(amount=PRICE):
        with commit():
            return api_client(member).post(
                f"/api/v1/orders/{order['number']}/refunds",
                {"line_id": line_id, "amount_fen": amount, "reason": "不想学了"},
                content_type=JSON,
            )

    actions.do_mark_done(member, course, first)
    actions.do_mark_done(member, course, second)
    refused = ask()
    assert refused.status_code == 409
    assert refused.json()["message"] == "你已学完 2 课，课程不能退款"
    assert refused.json()["code"] == "course_refund_after_study"

    time_machine.move_to(timezone.now() + timedelta(days=8))
    course.enrolments.get().progress.filter(lesson=second).delete()
    late = ask()
    assert (late.json()["code"], late.json()["message"]) == (
        "course_refund_window_closed",
        "报名已超过 7 天，课程不能退款",
    )
    assert Enrolment.objects.get(course=course).status == EnrolmentStatus.ACTIVE


def test_one_lesson_done_needs_staff_to_approve(sandbox, commit, shop, community, operator, member):
    course = make_course(shop, community, operator, title="一课课", access=CourseAccess.PAID, price_fen=PRICE)
    sku = Sku.objects.get(product_id=course.product_id)
    order, _ = buy(member, sku.pk, commit)
    actions.do_mark_done(member, course, course.lessons.order_by("position").first())
    with commit():
        response = api_client(member).post(
            f"/api/v1/orders/{order['number']}/refunds",
            {"line_id": order["lines"][0]["id"], "amount_fen": PRICE, "reason": "不想学了"},
            content_type=JSON,
        )
    assert (response.status_code, response.json()["status"]) == (201, "requested")
    assert Enrolment.objects.get(course=course).status == EnrolmentStatus.ACTIVE


def test_capacity_changes_move_the_seats_for_sale_and_a_rename_keeps_the_sku(
    sandbox, shop, camp, member, other_member, operator
):
    cohort = camp.cohorts.get()
    sku_id = cohort.sku_id
    for user in (member, other_member):  # both hold a unit, unpaid
        assert create_order(user, sku_id).status_code == 201
    assert Sku.objects.get(pk=sku_id).stock == 0

    def update(capacity, name="第1期"):
        data = actions.CohortInput(name=name, starts_at=cohort.starts_at, ends_at=cohort.ends_at, capacity=capacity)
        return actions.do_update_cohort(shop, cohort, data, actor=operator)

    update(5)
    assert Sku.objects.get(pk=sku_id).stock == 3
    with pytest.raises(InvalidCohort, match=r"容量不能少于已报名和待支付的人数（2 人）"):
        update(1)
    assert (Cohort.objects.get(pk=cohort.pk).capacity, Sku.objects.get(pk=sku_id).stock) == (5, 3)
    update(None, name="第一期")
    cohort.refresh_from_db()
    sku = Sku.objects.get(pk=sku_id)
    assert (cohort.sku_id, sku.spec, sku.stock) == (sku_id, "第一期", actions.UNLIMITED_SEATS - 2)


def test_a_course_turned_free_or_deleted_takes_its_product_off_sale(shop, community, operator):
    course = make_course(shop, community, operator, title="摄影课", access=CourseAccess.PAID, price_fen=PRICE)
    product_id = course.product_id
    assert Sku.objects.get(product_id=product_id).product.on_shelf is True
    data = actions.CourseInput(community_id=community.pk, title="摄影课", status="published")
    course = actions.do_update_course(shop, course, data, actor=operator)
    assert (course.access, course.price_fen, course.product_id) == (CourseAccess.MEMBERS_ONLY, None, product_id)
    sku = Sku.objects.select_related("product").get(product_id=product_id)
    assert (sku.product.on_shelf, sku.is_active) == (False, False)

    data = actions.CourseInput(
        community_id=community.pk, title="摄影课", access=CourseAccess.PAID, price_fen=9900, status="published"
    )
    course = actions.do_update_course(shop, course, data, actor=operator)
    sku.refresh_from_db()
    assert (sku.product.on_shelf, sku.is_active, sku.price_fen) == (True, True, 9900)
    actions.do_delete_course(shop, course, actor=operator)
    sku = Sku.objects.select_related("product").get(pk=sku.pk)
    assert (sku.product.on_shelf, sku.is_active) == (False, False)
