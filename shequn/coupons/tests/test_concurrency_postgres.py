"""Claiming the last coupons under concurrency. Run with scripts/with-postgres (SQLite serialises
every writer, so only PostgreSQL shows the race)."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from shequn.accounts.models import User
from shequn.coupons import actions
from shequn.coupons.actions import TemplateInput
from shequn.coupons.errors import CouponLimitReached, CouponSoldOut
from shequn.coupons.models import CouponEvent, CouponTemplate, MemberCoupon
from shequn.testing.orders import make_member, make_shop, make_staff

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _template(total: int, per_person: int = 1) -> CouponTemplate:
    shop = make_shop()
    now = timezone.now()
    return actions.create_template(
        shop,
        make_staff(shop),
        TemplateInput(
            name="满100减20",
            kind="threshold",
            threshold_fen=10000,
            amount_fen=2000,
            total_quantity=total,
            per_person_limit=per_person,
            valid_from=now - timedelta(hours=1),
            valid_until=now + timedelta(days=1),
        ),
    )


def _race(template: CouponTemplate, users: list[User]) -> list[str]:
    def attempt(user: User) -> str:
        try:
            actions.claim(user, template.pk)
            return "claimed"
        except CouponSoldOut:
            return "sold_out"
        except CouponLimitReached:
            return "limit"
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=50) as pool:
        return list(pool.map(attempt, users))  # any other exception fails the test here


def test_500_members_race_for_the_last_10_coupons_and_exactly_10_get_one():
    assert connection.vendor == "postgresql"
    template = _template(total=100)
    for _ in range(90):  # the first 90 went earlier
        actions.claim(make_member(), template.pk)
    users = User.objects.bulk_create(
        [User(username=f"racer{i}", phone=f"137{i:08d}", nickname=f"抢券{i}") for i in range(500)]
    )
    outcomes = _race(template, users)
    assert outcomes.count("claimed") == 10
    assert outcomes.count("sold_out") == 490
    template.refresh_from_db()
    assert template.remaining == 0
    assert MemberCoupon.objects.filter(template=template).count() == 100
    assert MemberCoupon.objects.filter(template=template, user__in=users).values("user").distinct().count() == 10
    assert CouponEvent.objects.filter(coupon__template=template).count() == 100


def test_one_member_claiming_from_many_threads_gets_exactly_the_per_person_limit():
    template = _template(total=100, per_person=3)
    member = make_member()
    outcomes = _race(template, [member] * 40)
    assert outcomes.count("claimed") == 3
    assert outcomes.count("limit") == 37
    template.refresh_from_db()
    assert template.remaining == 97
