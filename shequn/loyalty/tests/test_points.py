from datetime import date, datetime

import pytest
import time_machine
from django.utils import timezone

from shequn.coupons.models import MemberCoupon
from shequn.loyalty import actions, points
from shequn.loyalty.enums import PointsAccountKind as K
from shequn.loyalty.errors import CardNotFound, InsufficientPoints
from shequn.loyalty.models import PointsTransaction
from shequn.testing.coupons import make_coupon_template
from shequn.testing.loyalty import balances, books_ok, give_points, level_of
from shequn.testing.orders import make_shop

pytestmark = pytest.mark.django_db


def test_the_ledger_posts_once_and_never_lets_a_member_go_negative(shop, member):
    assert points.move(shop, "t:1", K.ISSUED, K.AVAILABLE, member, 50)
    assert not points.move(shop, "t:1", K.ISSUED, K.AVAILABLE, member, 50)  # same reference: nothing
    with pytest.raises(InsufficientPoints):
        points.move(shop, "t:2", K.AVAILABLE, K.REDEEMED, member, 51)
    assert balances(shop, member) == {K.PENDING: 0, K.AVAILABLE: 50}
    assert PointsTransaction.objects.filter(shop=shop).count() == 1
    assert books_ok(shop)
    assert points.outstanding(shop) == {K.PENDING: 0, K.AVAILABLE: 50}


def test_opening_a_card_is_free_once_and_needs_the_shop_program(shop, staff, member, program):
    actions.save_level(shop, staff, actions.LevelInput(name="普通会员", growth_fen=0))
    card = actions.open_card(member, shop)
    assert actions.open_card(member, shop) == card
    assert level_of(member) == "普通会员"
    assert len(card.number) == 16
    with pytest.raises(CardNotFound):
        actions.open_card(member, make_shop())  # a shop without a card program


def test_points_expire_at_the_end_of_the_next_year_oldest_spent_first(shop, member, program):
    actions.open_card(member, shop)
    with time_machine.travel(timezone.make_aware(datetime(2024, 6, 1)), tick=False):
        give_points(shop, member, 300)
    with time_machine.travel(timezone.make_aware(datetime(2025, 3, 1)), tick=False):
        give_points(shop, member, 200)
        points.move(shop, "test:spend", K.AVAILABLE, K.REDEEMED, member, 100)  # from 2024's first
    assert actions.expire_points(today=date(2025, 12, 31)) == 0  # nothing of 2023
    assert actions.expire_points(today=date(2026, 1, 1)) == 200  # 2024's 300 less the 100 spent
    assert actions.expire_points(today=date(2026, 1, 2)) == 0  # once
    assert balances(shop, member)[K.AVAILABLE] == 200
    assert actions.expire_points(today=date(2027, 1, 1)) == 200
    assert books_ok(shop)


def test_the_birthday_coupon_comes_once_a_year(shop, member, staff, program):
    template = make_coupon_template(shop, staff, name="生日券")
    actions.save_level(shop, staff, actions.LevelInput(name="普通会员", growth_fen=0, birthday_coupon_id=template.pk))
    actions.open_card(member, shop, birthday=date(1990, 3, 8))
    assert actions.give_birthday_coupons(today=date(2027, 3, 7)) == 0
    assert actions.give_birthday_coupons(today=date(2027, 3, 8)) == 1
    assert actions.give_birthday_coupons(today=date(2027, 3, 8)) == 0
    assert MemberCoupon.objects.filter(user=member, template=template, source="birthday").count() == 1


def test_the_points_shop_gives_a_coupon_for_its_points_or_nothing(shop, member, staff, program):
    from shequn.coupons.errors import CouponLimitReached

    template = make_coupon_template(shop, staff, name="无门槛5元", per_person_limit=1)
    item = actions.save_shop_item(shop, staff, template.pk, 500)
    actions.open_card(member, shop)
    give_points(shop, member, 400)
    with pytest.raises(InsufficientPoints):
        actions.exchange(member, shop, item.pk)
    assert not MemberCoupon.objects.filter(user=member).exists()  # the coupon went back with the points
    give_points(shop, member, 700)
    coupon = actions.exchange(member, shop, item.pk)
    assert (coupon.template, coupon.source) == (template, "points")
    assert balances(shop, member)[K.AVAILABLE] == 600
    with pytest.raises(CouponLimitReached):  # one per person: the points stay
        actions.exchange(member, shop, item.pk)
    assert balances(shop, member)[K.AVAILABLE] == 600
    assert books_ok(shop)
