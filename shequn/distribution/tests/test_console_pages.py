"""The operator's distribution page: decide applications, settings (refusals shown), rules, figures."""

import pytest

from shequn.core.models import AuditLog
from shequn.distribution import actions
from shequn.distribution.models import CommissionRule, DistributionSettings, Promoter, PromoterLevel
from shequn.testing.factories import UserFactory
from shequn.testing.money import yuan_refusals
from shequn.testing.orders import make_sku

pytestmark = pytest.mark.django_db


def test_operator_approves_and_configures_from_the_page(shop, console_client):
    promoter = actions.do_apply(UserFactory.create(nickname="李四"), shop)
    page = console_client.get("/console/distribution/")
    assert page.status_code == 200
    assert "李*" in page.content.decode()
    response = console_client.post(f"/console/distribution/promoters/{promoter.pk}/decide/", {"approve": "1"})
    assert response.status_code == 302
    assert Promoter.objects.get(pk=promoter.pk).status == "approved"

    console_client.post(
        "/console/distribution/settings/",
        {"enabled": "on", "tiers": "2", "attribution": "last_touch", "binding_days": "15"},
    )
    found = DistributionSettings.objects.get(shop=shop)
    assert (found.tier2_enabled, found.attribution, found.binding_days, found.auto_approve) == (
        True,
        "last_touch",
        15,
        False,
    )
    refused = console_client.post("/console/distribution/settings/", {"enabled": "on", "tiers": "3"}, follow=True)
    assert "分销最多两级：不能设置第三级佣金" in refused.content.decode()
    refused = console_client.post(
        "/console/distribution/settings/", {"enabled": "on", "join_fee_fen": "100"}, follow=True
    )
    assert "成为推广员必须免费" in refused.content.decode()
    assert DistributionSettings.objects.get(shop=shop).tier2_enabled is True

    console_client.post(
        "/console/distribution/rules/", {"scope": "shop", "kind": "percent", "tier1_value": "8", "tier2_value": "2"}
    )
    rule = CommissionRule.objects.get(shop=shop)
    assert (rule.tier1_value, rule.tier2_value) == (800, 200)  # basis points
    html = console_client.get("/console/distribution/").content.decode()
    assert 'data-testid="rule-tier1">8%<' in html
    assert 'data-testid="rule-tier2">2%<' in html


def test_other_shops_operator_gets_404_deciding(shop, other_console_client):
    promoter = actions.do_apply(UserFactory.create(), shop)
    response = other_console_client.post(f"/console/distribution/promoters/{promoter.pk}/decide/", {"approve": "1"})
    assert response.status_code == 404
    assert Promoter.objects.get(pk=promoter.pk).status == "pending"


def test_operator_adds_and_edits_levels_earned_by_own_sales(shop, console_client):
    page = console_client.get("/console/distribution/").content.decode()
    assert "等级只按推广员<strong>自己</strong>带来、已过售后期的成交额" in page
    assert "尚未设置等级" in page

    done = console_client.post(
        "/console/distribution/levels/", {"name": "银牌", "min_sales": "500", "extra_points": "1.5"}, follow=True
    )
    assert "推广员等级「银牌」已保存" in done.content.decode()
    console_client.post("/console/distribution/levels/", {"name": "金牌", "min_sales": "2000.50", "extra_points": "3"})
    levels = list(PromoterLevel.objects.filter(shop=shop).values_list("name", "min_sales_fen", "extra_bp"))
    assert levels == [("银牌", 50_000, 150), ("金牌", 200_050, 300)]
    html = console_client.get("/console/distribution/").content.decode()
    assert html.count('data-testid="level-row"') == 2
    assert 'data-testid="level-threshold">¥500.00<' in html
    assert 'data-testid="level-threshold">¥2,000.50<' in html
    assert 'name="extra_points" value="1.5" inputmode="decimal"' in html

    silver = PromoterLevel.objects.get(shop=shop, name="银牌")
    console_client.post(
        "/console/distribution/levels/",
        {"level_id": str(silver.pk), "name": "白银", "min_sales": "1", "extra_points": "2"},
    )
    silver.refresh_from_db()
    assert (silver.name, silver.min_sales_fen, silver.extra_bp) == ("白银", 50_000, 200)  # the threshold stays
    assert PromoterLevel.objects.filter(shop=shop).count() == 2


def test_bad_level_input_is_refused_with_a_clear_message(shop, console_client):
    console_client.post("/console/distribution/levels/", {"name": "银牌", "min_sales": "500", "extra_points": "1"})
    for data, message in [
        (
            {"name": "重复", "min_sales": "500.00", "extra_points": "2"},
            "销售门槛 ¥500.00 已有等级「银牌」，请在列表中修改它",
        ),
        ({"name": "金牌", "min_sales": "五百", "extra_points": "2"}, "销售门槛请填写金额（元），例如 500 或 99.90"),
        ({"name": "金牌", "min_sales": "-1", "extra_points": "2"}, "销售门槛请填写金额（元），例如 500 或 99.90"),
        (
            {"name": "金牌", "min_sales": "800", "extra_points": "0.125"},
            "佣金加成请填写百分点，例如 2 或 1.5（最多两位小数）",
        ),
        ({"name": "金牌", "min_sales": "800", "extra_points": "51"}, "等级门槛与加成须为合理的非负数"),
        ({"name": "", "min_sales": "800", "extra_points": "2"}, "等级名称须为 1 到 20 个字"),
    ]:
        response = console_client.post("/console/distribution/levels/", data, follow=True)
        assert message in response.content.decode(), data
    assert list(PromoterLevel.objects.filter(shop=shop).values_list("name", "extra_bp")) == [("银牌", 100)]


def test_another_shops_level_cannot_be_edited(shop, other_shop, console_client):
    foreign = PromoterLevel.objects.create(shop=other_shop, name="别家", min_sales_fen=100, extra_bp=100)
    response = console_client.post(
        "/console/distribution/levels/", {"level_id": str(foreign.pk), "name": "改名", "extra_points": "5"}
    )
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert (foreign.name, foreign.extra_bp) == ("别家", 100)
    assert PromoterLevel.objects.filter(shop=shop).count() == 0


def test_rules_in_percent_or_yuan_per_unit_for_a_chosen_product_and_deleted(shop, other_shop, console_client):
    sku = make_sku(shop, title="挪威三文鱼礼盒")
    page = console_client.get("/console/distribution/").content.decode()
    assert f'<option value="{sku.product.pk}">挪威三文鱼礼盒</option>' in page
    console_client.post("/console/distribution/rules/", {"scope": "shop", "kind": "percent", "tier1_value": "2.5"})
    done = console_client.post(
        "/console/distribution/rules/",
        {
            "scope": "product",
            "product_id": str(sku.product.pk),
            "category_id": "",
            "kind": "fixed",
            "tier1_value": "1.50",
        },
        follow=True,
    )
    assert "佣金规则已保存" in done.content.decode()
    rules = {r.scope: (r.kind, r.tier1_value, r.product_id) for r in CommissionRule.objects.filter(shop=shop)}
    assert rules == {"shop": ("percent", 250, None), "product": ("fixed", 150, sku.product.pk)}
    html = done.content.decode()
    assert 'data-testid="rule-tier1">2.5%<' in html
    assert 'data-testid="rule-tier1">¥1.50/件<' in html

    for value, message in [
        ("十", "佣金请填写数字：按比例填百分比（如 10 或 2.5），固定金额填元/件（如 1.50）"),
        ("0.001", "佣金请填写数字：按比例填百分比（如 10 或 2.5），固定金额填元/件（如 1.50）"),
        ("51", "一级与二级佣金合计不能超过成交额的 50%"),
    ]:
        refused = console_client.post(
            "/console/distribution/rules/", {"scope": "shop", "kind": "percent", "tier1_value": value}, follow=True
        )
        assert message in refused.content.decode(), value
    assert CommissionRule.objects.get(shop=shop, scope="shop").tier1_value == 250

    foreign = CommissionRule.objects.create(shop=other_shop, scope="shop", kind="percent", tier1_value=100)
    assert console_client.post(f"/console/distribution/rules/{foreign.pk}/delete/").status_code == 404
    product_rule = CommissionRule.objects.get(shop=shop, scope="product")
    deleted = console_client.post(f"/console/distribution/rules/{product_rule.pk}/delete/", follow=True)
    assert "佣金规则已删除" in deleted.content.decode()
    assert list(CommissionRule.objects.filter(shop=shop).values_list("scope", flat=True)) == ["shop"]
    assert CommissionRule.objects.filter(pk=foreign.pk).exists()


def test_operator_deletes_a_level_and_it_is_audited(shop, console_client):
    kept = PromoterLevel.objects.create(shop=shop, name="银牌", min_sales_fen=50000, extra_bp=100)
    gone = PromoterLevel.objects.create(shop=shop, name="金牌", min_sales_fen=100000, extra_bp=200)
    response = console_client.post(f"/console/distribution/levels/{gone.pk}/delete/", follow=True)
    assert "推广员等级「金牌」已删除" in response.content.decode()
    assert list(PromoterLevel.objects.filter(shop=shop).values_list("name", flat=True)) == ["银牌"]
    assert AuditLog.objects.filter(shop=shop, action="distribution.level_deleted").count() == 1
    page = console_client.get("/console/distribution/").content.decode()
    assert page.count('data-testid="level-row"') == 1
    assert kept.name in page


def test_another_shops_level_cannot_be_deleted_and_a_get_deletes_nothing(shop, other_shop, console_client):
    foreign = PromoterLevel.objects.create(shop=other_shop, name="别家", min_sales_fen=100, extra_bp=100)
    assert console_client.post(f"/console/distribution/levels/{foreign.pk}/delete/").status_code == 404
    own = PromoterLevel.objects.create(shop=shop, name="银牌", min_sales_fen=100, extra_bp=100)
    assert console_client.get(f"/console/distribution/levels/{own.pk}/delete/").status_code == 405
    assert PromoterLevel.objects.count() == 2


BAD_HUNDREDTHS = [typed for typed, _message in yuan_refusals()]


@pytest.mark.parametrize("typed", BAD_HUNDREDTHS)
def test_a_level_threshold_or_rule_amount_that_cannot_be_read_is_refused_with_the_pages_message(
    shop, console_client, typed
):
    # This page's established behaviour: several small forms on one page, a flash message on top.
    level = console_client.post(
        "/console/distribution/levels/", {"name": "银牌", "min_sales": typed, "extra_points": "1"}, follow=True
    )
    assert level.status_code == 200
    assert "销售门槛请填写金额（元），例如 500 或 99.90" in level.content.decode()
    rule = console_client.post(
        "/console/distribution/rules/", {"scope": "shop", "kind": "fixed", "tier1_value": typed}, follow=True
    )
    assert rule.status_code == 200
    assert "佣金请填写数字：按比例填百分比（如 10 或 2.5），固定金额填元/件（如 1.50）" in rule.content.decode()
    assert not PromoterLevel.objects.filter(shop=shop).exists()
    assert not CommissionRule.objects.filter(shop=shop).exists()


def test_a_level_threshold_and_a_rule_in_yuan_are_saved_in_fen(shop, console_client):
    console_client.post("/console/distribution/levels/", {"name": "银牌", "min_sales": "35.90", "extra_points": "1"})
    console_client.post("/console/distribution/rules/", {"scope": "shop", "kind": "fixed", "tier1_value": "¥1.5"})
    assert PromoterLevel.objects.get(shop=shop).min_sales_fen == 3590
    assert CommissionRule.objects.get(shop=shop).tier1_value == 150
