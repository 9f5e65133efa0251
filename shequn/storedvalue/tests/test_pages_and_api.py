"""Stored value's pages and API: plans in the console, the member's balance page and API, member
balances and the liabilities report (equal to the ledger), and another shop's plan looks absent."""

import pytest
from django.test import Client

from shequn.core.models import AuditLog
from shequn.storedvalue import actions, selectors
from shequn.storedvalue.models import TopUpPlan
from shequn.testing.orders import auth_headers, make_member, make_shop, make_staff, staff_client
from shequn.testing.storedvalue import make_plan, paid_top_up

pytestmark = pytest.mark.django_db


def test_plan_spending_order_takes_red_packets_first_then_principal_and_bonus_in_proportion():
    assert actions.plan_take([100_000, 10_000, 0], 33_000) == [30_000, 3_000, 0]
    assert actions.plan_take([10_000, 1_000, 500], 1_600) == [1_000, 100, 500]
    assert actions.plan_take([1, 1, 0], 1) == [1, 0, 0]  # largest remainder: the earlier part wins a tie
    assert actions.plan_take([300, 0, 200], 10_000) == [300, 0, 200]  # what there is, the gateway the rest
    assert actions.plan_take([0, 0, 0], 10_000) == [0, 0, 0]


def test_the_console_creates_and_stops_a_plan_and_the_member_sees_it_then_not():
    shop = make_shop()
    console = staff_client(shop)
    response = console.post("/console/stored-value/", {"principal": "1000", "bonus": "100"})
    assert response.status_code == 302
    plan = TopUpPlan.objects.get(shop=shop)
    assert (plan.principal_fen, plan.bonus_fen, plan.active) == (100_000, 10_000, True)
    assert plan.product.kind == "stored_value"
    assert plan.product.on_shelf
    assert AuditLog.objects.filter(action="storedvalue.plan.create", shop=shop).count() == 1

    member = make_member()
    browser = Client()
    browser.force_login(member)
    page = browser.get(f"/stored-value/?shop={shop.pk}").content.decode()
    assert "充¥1,000.00送¥100.00" in page
    assert f"sku={plan.product.skus.get().pk}" in page

    assert console.post(f"/console/stored-value/{plan.pk}/active/", {"active": "0"}).status_code == 302
    plan.refresh_from_db()
    assert not plan.active
    assert not plan.product.on_shelf
    assert 'data-testid="top-up-plan"' not in browser.get(f"/stored-value/?shop={shop.pk}").content.decode()


def test_a_plan_with_a_bad_amount_is_refused_on_its_field():
    shop = make_shop()
    response = staff_client(shop).post("/console/stored-value/", {"principal": "0", "bonus": "-1"})
    assert response.status_code == 422
    assert not TopUpPlan.objects.exists()


def test_another_shops_plan_looks_absent():
    shop, other = make_shop(), make_shop()
    plan = make_plan(other)
    response = staff_client(shop).post(f"/console/stored-value/{plan.pk}/active/", {"active": "0"})
    assert response.status_code == 404
    api = Client().post(
        f"/api/v1/stored-value/console/plans/{plan.pk}/active",
        {"active": False},
        content_type="application/json",
        headers=auth_headers(make_staff(shop)),
    )
    assert api.status_code == 404
    plan.refresh_from_db()
    assert plan.active


def test_balance_page_and_api_show_principal_bonus_and_history_apart():
    shop = make_shop()
    member = make_member()
    paid_top_up(member, make_plan(shop, 100_000, 10_000))
    browser = Client()
    browser.force_login(member)
    page = browser.get("/stored-value/").content.decode()
    assert 'data-testid="principal">¥1,000.00' in page
    assert 'data-testid="bonus">¥100.00' in page
    assert "可用余额 ¥1,100.00" in page
    assert page.count('data-testid="movement"') == 2

    headers = auth_headers(member)
    (balances,) = Client().get("/api/v1/stored-value/balances", headers=headers).json()
    assert balances == {
        "shop_id": shop.pk,
        "principal_fen": 100_000,
        "bonus_fen": 10_000,
        "spendable_fen": 0,
        "refunding_fen": 0,
        "usable_fen": 110_000,
    }
    history = Client().get(f"/api/v1/stored-value/history?shop_id={shop.pk}", headers=headers).json()
    assert sorted(item["amount_fen"] for item in history["items"]) == [10_000, 100_000]
    (plan,) = Client().get(f"/api/v1/stored-value/plans?shop_id={shop.pk}").json()
    assert (plan["principal_fen"], plan["bonus_fen"]) == (100_000, 10_000)


def test_console_member_balances_and_liabilities_equal_the_ledger():
    shop = make_shop()
    plan = make_plan(shop, 50_000, 5_000)
    for _ in range(3):
        paid_top_up(make_member(), plan)
    console = staff_client(shop, role="finance")
    page = console.get("/console/stored-value/balances/").content.decode()
    assert page.count('data-testid="member-balance-row"') == 3
    assert 'data-testid="liability-total">¥1,650.00' in page
    report = Client().get("/api/v1/stored-value/console/liabilities", headers=auth_headers(make_staff(shop))).json()
    assert report["owed_fen"] == 165_000
    assert selectors.liabilities(shop) == selectors.liabilities_from_entries(shop)
    assert selectors.books_balance(shop) == []
    # An operator manages plans but does not see members' money.
    assert staff_client(shop, role="operator").get("/console/stored-value/balances/").status_code == 403


def test_api_creates_a_plan_and_refuses_a_bad_one():
    shop = make_shop()
    headers = auth_headers(make_staff(shop))
    created = Client().post(
        "/api/v1/stored-value/console/plans",
        {"principal_fen": 100_000, "bonus_fen": 10_000},
        content_type="application/json",
        headers=headers,
    )
    assert created.status_code == 201
    assert created.json()["bonus_fen"] == 10_000
    refused = Client().post(
        "/api/v1/stored-value/console/plans",
        {"principal_fen": 0},
        content_type="application/json",
        headers=headers,
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "top_up_plan_invalid"
