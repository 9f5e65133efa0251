"""Members apply to promote a shop for free; operators decide; levels come from own sales only."""

import pytest

from shequn.core.models import AuditLog
from shequn.distribution import actions, selectors
from shequn.distribution.enums import PromoterStatus
from shequn.distribution.errors import AlreadyPromoter, InvalidPromoterTransition
from shequn.distribution.models import Promoter
from shequn.notifications.models import Notification
from shequn.orders.models import Order
from shequn.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_member_applies_without_buying_and_the_operator_approves(shop, operator):
    member = UserFactory.create(nickname="王小明")
    assert Order.objects.filter(user=member).count() == 0
    promoter = actions.do_apply(member, shop)
    assert promoter.status == PromoterStatus.PENDING
    assert len(promoter.code) == 8

    decided = actions.do_decide(operator, shop, promoter, approve=True, ip="10.0.0.1")
    assert decided.status == PromoterStatus.APPROVED
    log = AuditLog.objects.get(action="distribution.promoter_approved")
    assert (log.actor_id, log.object_id, log.ip) == (operator.pk, str(promoter.pk), "10.0.0.1")
    note = Notification.objects.get(user=member)
    assert note.title == "推广员申请已通过"

    with pytest.raises(InvalidPromoterTransition):
        actions.do_decide(operator, shop, decided, approve=False)


def test_auto_approve_per_shop_setting(shop, operator):
    actions.do_update_settings(operator, shop, {"auto_approve": True})
    promoter = actions.do_apply(UserFactory.create(), shop)
    assert promoter.status == PromoterStatus.APPROVED


def test_applying_twice_is_refused_but_a_rejected_member_may_apply_again(shop, operator):
    member = UserFactory.create()
    promoter = actions.do_apply(member, shop)
    with pytest.raises(AlreadyPromoter) as refused:
        actions.do_apply(member, shop)
    assert refused.value.message == "你已申请过本店推广员"
    actions.do_decide(operator, shop, promoter, approve=False)
    assert Notification.objects.get(user=member).title == "推广员申请未通过"
    again = actions.do_apply(member, shop)
    assert (again.pk, again.status) == (promoter.pk, PromoterStatus.PENDING)
    assert Promoter.objects.filter(user=member).count() == 1


def test_levels_are_reached_by_own_completed_sales(shop, operator):
    actions.do_save_level(operator, shop, name="银牌", min_sales_fen=10000, extra_bp=100)
    actions.do_save_level(operator, shop, name="金牌", min_sales_fen=50000, extra_bp=300)
    promoter = actions.do_apply(UserFactory.create(), shop)
    # No settled own sales yet: no level, whatever the size of the promoter's team.
    assert selectors.promoter_level(promoter) is None
    assert [level.name for level in selectors.shop_levels(shop)] == ["银牌", "金牌"]
