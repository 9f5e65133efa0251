"""Ways to get a coupon (claim centre, post card, staff issue, welcome, lottery) and their limits;
templates: validation, frozen rules, the sharing guardrail; figures."""

import pytest
from django.test import Client

from shequn.communities import actions as community_actions
from shequn.communities.enums import MemberStatus
from shequn.communities.models import CommunityMembership, Tag
from shequn.core.models import AuditLog
from shequn.coupons import actions, selectors
from shequn.coupons.actions import TemplateInput
from shequn.coupons.enums import CouponSource, CouponStatus
from shequn.coupons.errors import (
    CouponInvalid,
    CouponLimitReached,
    CouponMembersOnly,
    CouponNotClaimable,
    CouponSoldOut,
)
from shequn.coupons.models import MemberCoupon
from shequn.notifications.models import Notification
from shequn.testing.factories import CommunityFactory, MembershipFactory, PostFactory
from shequn.testing.orders import make_member, paid_order, place_order

pytestmark = pytest.mark.django_db


def test_claims_stop_at_the_per_person_limit_and_at_the_total(make_template):
    template = make_template(total_quantity=3, per_person_limit=2)
    first, second = make_member(), make_member()
    actions.claim(first, template.pk)
    actions.claim(first, template.pk)
    with pytest.raises(CouponLimitReached) as limited:
        actions.claim(first, template.pk)
    assert limited.value.message == "每人限领 2 张，你已经领过了"
    actions.claim(second, template.pk)
    with pytest.raises(CouponSoldOut):
        actions.claim(second, template.pk)
    template.refresh_from_db()
    assert (template.remaining, template.issued) == (0, 3)
    assert MemberCoupon.objects.filter(template=template).count() == 3


def test_community_coupons_are_for_its_members_only(shop, make_template, member):
    community = CommunityFactory.create(shop=shop, name="果友群")
    template = make_template(community_id=community.pk)
    with pytest.raises(CouponMembersOnly) as refused:
        actions.claim(member, template.pk)
    assert refused.value.message == "仅限「果友群」社群成员领取"
    MembershipFactory.create(community=community, user=member)
    assert actions.claim(member, template.pk).source == CouponSource.CENTRE


def test_a_stopped_or_staff_only_coupon_cannot_be_claimed(make_template, member):
    with pytest.raises(CouponNotClaimable):
        actions.claim(member, make_template(claimable=False).pk)
    with pytest.raises(CouponNotClaimable):
        actions.claim(member, make_template(is_active=False).pk)


def test_a_lottery_prize_is_issued_through_the_stable_action(make_template, member):
    template = make_template(claimable=False, validity="days", valid_days=3, valid_from=None, valid_until=None)
    coupon = actions.issue(template, member, source=CouponSource.LOTTERY)
    assert (coupon.source, coupon.status) == (CouponSource.LOTTERY, CouponStatus.CLAIMED)
    assert (coupon.valid_until - coupon.valid_from).days == 3
    with pytest.raises(CouponLimitReached):
        actions.issue(template, member, source=CouponSource.LOTTERY)


def test_staff_issue_to_a_tag_skips_members_at_the_limit_and_is_audited(shop, staff, make_template):
    community = CommunityFactory.create(shop=shop)
    tag = Tag.objects.create(community=community, name="老客户")
    members = [make_member() for _ in range(4)]
    for user in members:
        MembershipFactory.create(community=community, user=user).tags.add(tag)
    MembershipFactory.create(community=community, user=make_member())  # not tagged: nothing
    template = make_template(total_quantity=10)
    actions.claim(members[0], template.pk)  # already at the limit of 1
    result = actions.issue_to_members(shop, staff, template.pk, tag_id=tag.pk)
    assert (result.issued, result.skipped) == (3, 1)  # the one at the limit
    assert set(MemberCoupon.objects.filter(source=CouponSource.STAFF).values_list("user", flat=True)) == {
        user.pk for user in members[1:]
    }
    template.refresh_from_db()
    assert template.remaining == 6
    assert Notification.objects.filter(kind="coupon", user__in=members[1:]).count() == 3
    assert AuditLog.objects.filter(action="coupon.issue").count() == 1
    assert set(MemberCoupon.objects.filter(source=CouponSource.STAFF).values_list("events__status", flat=True)) == {
        CouponStatus.CLAIMED
    }


def test_staff_issue_tells_each_member_in_their_language(shop, staff, make_template):
    community = CommunityFactory.create(shop=shop)
    chinese, english = make_member(), make_member()
    english.language = "en"
    english.save(update_fields=["language"])
    for user in (chinese, english):
        MembershipFactory.create(community=community, user=user)
    template = make_template(total_quantity=10)
    actions.issue_to_members(shop, staff, template.pk, phones=[chinese.phone, english.phone])
    assert Notification.objects.get(kind="coupon", user=chinese).title == f"你收到一张优惠券：{template.name}"
    assert Notification.objects.get(kind="coupon", user=english).title == f"You received a coupon: {template.name}"


def test_staff_issue_by_phone_reaches_only_members_and_stops_at_the_total(shop, staff, make_template):
    community = CommunityFactory.create(shop=shop)
    members = [make_member() for _ in range(3)]
    for user in members:
        MembershipFactory.create(community=community, user=user)
    stranger = make_member()  # not a member of any of the shop's communities
    template = make_template(total_quantity=2)
    phones = [user.phone for user in [*members, stranger]]
    result = actions.issue_to_members(shop, staff, template.pk, phones=phones)
    assert (result.issued, result.skipped) == (2, 2)
    assert not MemberCoupon.objects.filter(user=stranger).exists()


def test_joining_a_community_gives_its_welcome_coupon_once(shop, make_template, member):
    community = CommunityFactory.create(shop=shop)
    template = make_template(welcome_community_id=community.pk, claimable=False)
    community_actions.do_join(community, member)
    assert MemberCoupon.objects.get(user=member, template=template).source == CouponSource.WELCOME
    # Leaving and joining again is not a first join: nothing more.
    CommunityMembership.objects.filter(community=community, user=member).update(status=MemberStatus.FORMER)
    _, created = community_actions.do_join(community, member)
    assert created
    assert MemberCoupon.objects.filter(user=member).count() == 1


def test_a_sold_out_welcome_coupon_does_not_stop_joining(shop, make_template):
    community = CommunityFactory.create(shop=shop)
    make_template(welcome_community_id=community.pk, total_quantity=1)
    first, second = make_member(), make_member()
    community_actions.do_join(community, first)
    _, created = community_actions.do_join(community, second)
    assert created
    assert MemberCoupon.objects.filter(user=second).count() == 0


def test_a_member_claims_from_a_coupon_card_under_a_post(shop, staff, make_template, member):
    community = CommunityFactory.create(shop=shop)
    MembershipFactory.create(community=community, user=member)
    post = PostFactory.create(community=community, body="本周水果上新")
    template = make_template(name="水果券")
    actions.put_on_post(shop, staff, template.pk, post.pk)
    client = Client()
    client.force_login(member)
    feed = client.get(f"/c/{community.pk}/")
    assert feed.status_code == 200
    assert 'data-testid="coupon-card"' in feed.content.decode()
    response = client.post(f"/coupons/{template.pk}/claim/", {"post": post.pk})
    assert response.status_code == 302
    coupon = MemberCoupon.objects.get(user=member)
    assert (coupon.source, coupon.post_id) == (CouponSource.POST, post.pk)


def test_rules_are_frozen_once_a_member_holds_one(shop, staff, make_template, member):
    template = make_template(total_quantity=5)
    actions.claim(member, template.pk)
    data = TemplateInput(**{**_input_of(template), "amount_fen": 3000})
    with pytest.raises(CouponInvalid) as frozen:
        actions.update_template(shop, staff, template.pk, data)
    assert frozen.value.message == "已有会员领取，不能再修改「减免金额」"
    with pytest.raises(CouponInvalid) as below:
        actions.update_template(shop, staff, template.pk, TemplateInput(**{**_input_of(template), "total_quantity": 0}))
    assert "发放总量" in below.value.message
    renamed = actions.update_template(
        shop, staff, template.pk, TemplateInput(**{**_input_of(template), "name": "新名字", "total_quantity": 8})
    )
    assert (renamed.name, renamed.total_quantity, renamed.remaining) == ("新名字", 8, 7)


def _input_of(template):
    return {
        "name": template.name,
        "kind": template.kind,
        "total_quantity": template.total_quantity,
        "threshold_fen": template.threshold_fen,
        "amount_fen": template.amount_fen,
        "valid_from": template.valid_from,
        "valid_until": template.valid_until,
    }


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"amount_fen": 10000}, "减免金额应大于 ¥0 且小于门槛金额"),
        ({"kind": "percent", "percent_off": 100}, "折扣力度应在 1% 到 99% 之间（即 9.9 折到 0.1 折）"),
        ({"kind": "no_threshold"}, "无门槛券不能设置门槛，请改用满减券"),
        ({"kind": "free_item"}, "请选择赠品"),
        ({"scope": "products"}, "请选择本店的商品"),
        ({"validity": "days", "valid_days": 0}, "有效天数应在 1 到 365 天之间"),
        (
            {"name": "分享到朋友圈领20元"},
            "优惠券不能以分享、转发朋友圈或邀请好友为条件或奖励（微信规则禁止诱导分享），请修改名称",
        ),
        (
            {"name": "邀请好友得券"},
            "优惠券不能以分享、转发朋友圈或邀请好友为条件或奖励（微信规则禁止诱导分享），请修改名称",
        ),
    ],
)
def test_templates_are_validated_with_clear_messages(make_template, fields, message):
    with pytest.raises(CouponInvalid) as refused:
        make_template(**fields)
    assert refused.value.message == message


def test_figures_count_paid_orders_their_discount_and_sales(shop, sku, make_template, member):
    template = make_template(kind="no_threshold", threshold_fen=0, amount_fen=500, per_person_limit=3)
    paid = paid_order(member, sku, coupon_id=actions.claim(member, template.pk).pk)
    place_order(member, sku, coupon_id=actions.claim(member, template.pk).pk)  # unpaid: not counted
    actions.claim(member, template.pk)  # held, unused
    template.refresh_from_db()
    figures = selectors.template_figures([template])[template.pk]
    assert (figures.issued, figures.used, figures.cost_fen, figures.orders) == (3, 1, 500, 1)
    assert figures.sales_fen == paid.total_fen == 5000 - 500 + 1000
