"""The operator's distribution page: decide applications, settings (refusals shown), rules, figures."""

import pytest

from shequn.distribution import actions
from shequn.distribution.models import CommissionRule, DistributionSettings, Promoter
from shequn.testing.factories import UserFactory

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
        "/console/distribution/rules/", {"scope": "shop", "kind": "percent", "tier1_value": "800", "tier2_value": "200"}
    )
    assert CommissionRule.objects.get(shop=shop).tier1_value == 800
    assert "800 基点" in console_client.get("/console/distribution/").content.decode()


def test_other_shops_operator_gets_404_deciding(shop, other_console_client):
    promoter = actions.do_apply(UserFactory.create(), shop)
    response = other_console_client.post(f"/console/distribution/promoters/{promoter.pk}/decide/", {"approve": "1"})
    assert response.status_code == 404
    assert Promoter.objects.get(pk=promoter.pk).status == "pending"
