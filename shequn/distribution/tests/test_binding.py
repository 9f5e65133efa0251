"""Visits through a promoter code bind the visitor; self-referral and cycles are refused."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from shequn.distribution import actions, selectors
from shequn.distribution.errors import InvalidCode, ReferralCycle, SelfReferral
from shequn.distribution.models import Binding, Visit
from shequn.testing.factories import UserFactory

from .helpers import approved_promoter, chain

pytestmark = pytest.mark.django_db


def bound_to(shop, customer):
    binding = selectors.active_binding(shop, customer)
    assert binding is not None
    return binding.promoter_id


def test_a_signed_in_visitor_is_bound_for_thirty_days_by_default(shop):
    promoter = approved_promoter(shop)
    visitor = UserFactory.create()
    visit, binding = actions.record_visit(promoter.code.lower(), visitor, device="d1", target="/s/x/p/1/")
    assert (visit.promoter_id, visit.visitor_id, visit.target) == (promoter.pk, visitor.pk, "/s/x/p/1/")
    assert binding is not None
    assert binding.promoter_id == promoter.pk
    assert binding.expires_at - binding.bound_at == timedelta(days=30)
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        assert selectors.active_binding(shop, visitor) is None


def test_an_anonymous_visit_is_recorded_without_binding(shop):
    promoter = approved_promoter(shop)
    from django.contrib.auth.models import AnonymousUser

    visit, binding = actions.record_visit(promoter.code, AnonymousUser(), device="d1")
    assert (visit.visitor_id, binding) == (None, None)
    assert Binding.objects.count() == 0


def test_first_touch_keeps_the_first_promoter_last_touch_moves(shop, operator):
    first, second = approved_promoter(shop), approved_promoter(shop)
    visitor = UserFactory.create()
    actions.record_visit(first.code, visitor, device="d")
    actions.record_visit(second.code, visitor, device="d")
    assert bound_to(shop, visitor) == first.pk
    actions.do_update_settings(operator, shop, {"attribution": "last_touch"})
    actions.record_visit(second.code, visitor, device="d")
    assert bound_to(shop, visitor) == second.pk
    assert Binding.objects.filter(customer=visitor).count() == 1
    assert Visit.objects.filter(visitor=visitor).count() == 3


def test_an_expired_first_touch_binding_gives_way(shop):
    first, second = approved_promoter(shop), approved_promoter(shop)
    visitor = UserFactory.create()
    actions.record_visit(first.code, visitor, device="d")
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        actions.record_visit(second.code, visitor, device="d")
        assert bound_to(shop, visitor) == second.pk


def test_self_referral_is_refused(shop):
    promoter = approved_promoter(shop)
    with pytest.raises(SelfReferral) as refused:
        actions.record_visit(promoter.code, promoter.user, device="d")
    assert refused.value.message == "不能通过自己的推广码绑定自己"
    assert Binding.objects.count() == 0


def test_a_cycle_is_refused_directly_and_further_up(shop, operator):
    actions.do_update_settings(operator, shop, {"attribution": "last_touch"})
    promoters = chain(shop, "ABCDE")
    a, b, e = promoters["A"], promoters["B"], promoters["E"]
    with pytest.raises(ReferralCycle) as refused:
        actions.do_bind(b, a.user)  # A→B→A
    assert refused.value.message == "推广关系不能形成循环"
    with pytest.raises(ReferralCycle):
        actions.do_bind(e, a.user)  # A→B→C→D→E→A
    assert selectors.upline(b) == a
    assert selectors.upline(a) is None
    assert selectors.upline(e) == promoters["D"]


def test_unknown_or_unapproved_codes_are_refused(shop):
    pending = actions.do_apply(UserFactory.create(), shop)
    for code in ("NOPE1234", pending.code):
        with pytest.raises(InvalidCode):
            actions.record_visit(code, UserFactory.create(), device="d")
    assert Visit.objects.count() == 0
