"""Commission rules: shop, category and product overrides; anti-pyramid refusals."""

import pytest

from shequn.core.models import AuditLog
from shequn.distribution import actions, selectors
from shequn.distribution.errors import (
    InvalidRule,
    JoinFeeForbidden,
    RecruitmentBonusForbidden,
    TeamBonusForbidden,
    TierLimit,
)
from shequn.distribution.models import CommissionRule, DistributionSettings
from shequn.testing.factories import CategoryFactory
from shequn.testing.orders import make_sku

pytestmark = pytest.mark.django_db


def tier1(shop, product):
    rule = selectors.rule_for(shop, product)
    assert rule is not None
    return rule.tier1_value


def test_the_most_specific_rule_wins(shop, operator):
    fruit = CategoryFactory.create(shop=shop, name="水果")
    apple = make_sku(shop, category=fruit).product
    pear = make_sku(shop, category=fruit).product
    fish = make_sku(shop).product
    actions.do_save_rule(operator, shop, {"scope": "shop", "kind": "percent", "tier1_value": 500})
    actions.do_save_rule(
        operator, shop, {"scope": "category", "category_id": fruit.pk, "kind": "percent", "tier1_value": 800}
    )
    actions.do_save_rule(
        operator,
        shop,
        {"scope": "product", "product_id": apple.pk, "kind": "fixed", "tier1_value": 300, "tier2_value": 100},
    )
    assert tier1(shop, apple) == 300
    assert tier1(shop, pear) == 800
    assert tier1(shop, fish) == 500
    # Saving the shop rule again replaces it.
    actions.do_save_rule(operator, shop, {"scope": "shop", "kind": "percent", "tier1_value": 600})
    assert CommissionRule.objects.filter(shop=shop, scope="shop").count() == 1
    assert tier1(shop, fish) == 600
    assert AuditLog.objects.filter(action="distribution.rule_saved").count() == 4


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        ({"tiers": 3}, TierLimit, "分销最多两级：不能设置第三级佣金"),
        ({"tier3_enabled": True}, TierLimit, "分销最多两级：不能设置第三级佣金"),
        (
            {"join_fee_fen": 9900},
            JoinFeeForbidden,
            "成为推广员必须免费，且不以购买为前提：不能设置入门费、购买门槛或推广员礼包",
        ),
        ({"join_requires_purchase": True}, JoinFeeForbidden, None),
        ({"signup_bonus_fen": 500}, RecruitmentBonusForbidden, "不能按发展下线或注册人数发放奖励：佣金只来自真实成交"),
        ({"team_bonus_bp": 200}, TeamBonusForbidden, "不能按团队业绩发放奖励：佣金只来自推广员自己带来的真实成交"),
    ],
)
def test_settings_refuse_pyramid_features(shop, operator, data, error, message):
    with pytest.raises(error) as refused:
        actions.do_update_settings(operator, shop, data)
    if message:
        assert refused.value.message == message
    assert DistributionSettings.objects.filter(shop=shop, tier2_enabled=True).count() == 0
    assert AuditLog.objects.filter(action="distribution.settings_updated").count() == 0


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"tier3_value": 100}, TierLimit),
        ({"basis": "signup"}, RecruitmentBonusForbidden),
        ({"basis": "team_sales"}, TeamBonusForbidden),
        ({"join_fee_fen": 100}, JoinFeeForbidden),
    ],
)
def test_rules_refuse_pyramid_features(shop, operator, extra, error):
    with pytest.raises(error):
        actions.do_save_rule(operator, shop, {"scope": "shop", "kind": "percent", "tier1_value": 500, **extra})
    assert CommissionRule.objects.count() == 0


def test_rule_values_are_checked(shop, operator, other_shop):
    foreign = make_sku(other_shop).product
    with pytest.raises(InvalidRule) as refused:
        actions.do_save_rule(
            operator, shop, {"scope": "shop", "kind": "percent", "tier1_value": 4000, "tier2_value": 1500}
        )
    assert refused.value.message == "一级与二级佣金合计不能超过成交额的 50%"
    with pytest.raises(InvalidRule) as refused:
        actions.do_save_rule(
            operator, shop, {"scope": "product", "product_id": foreign.pk, "kind": "fixed", "tier1_value": 1}
        )
    assert refused.value.message == "商品不存在"


def test_two_tiers_at_most_and_settings_are_audited(shop, operator):
    found = actions.do_update_settings(operator, shop, {"tiers": 2, "attribution": "last_touch", "binding_days": 7})
    assert (found.tier2_enabled, found.attribution, found.binding_days) == (True, "last_touch", 7)
    assert AuditLog.objects.get(action="distribution.settings_updated").detail["tier2_enabled"] is True
