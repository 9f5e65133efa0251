"""The holder's wallet page and API, and the finance queue page and API (foreign ids 404)."""

import pytest
from django.test import Client

from shequn.core.phone import mask_name
from shequn.shops.enums import StaffRole
from shequn.testing.accounts import bearer, member_client
from shequn.testing.factories import ShopFactory, StaffFactory, UserFactory
from shequn.testing.money import beside_input, keeps_typed_value, yuan_refusals
from shequn.testing.two_shops import login
from shequn.wallets import actions, flows, ledger
from shequn.wallets.enums import WithdrawalStatus
from shequn.wallets.models import Withdrawal

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return ShopFactory.create(slug="salmon")


@pytest.fixture
def holder(shop):
    user = UserFactory.create()
    flows.credit_available(shop, user, 10_000, reference="seed", memo="团长佣金结算")
    return user


@pytest.fixture
def finance(shop):
    return StaffFactory.create(shop=shop, role=StaffRole.FINANCE).user


def test_the_wallet_page_shows_balances_history_and_a_debt(shop, holder):
    flows.freeze(shop, holder, 300, reference="f1", memo="订单佣金")
    flows.reverse(shop, holder, 12_000, frozen=False, reference="r1", memo="退款扣回佣金")
    body = member_client(holder).get("/wallet/").content.decode()
    assert 'data-testid="balance-available" class="danger">欠款 -¥20.00<' in body
    assert 'data-testid="balance-frozen">¥3.00<' in body
    assert 'data-testid="debt-note"' in body
    assert body.count('data-testid="entry"') == 3
    assert "退款扣回佣金" in body
    assert "团长佣金结算" in body


def test_the_withdraw_form_reports_clear_errors_and_submits(shop, holder):
    client = member_client(holder)
    response = client.post("/wallet/", {"shop": shop.pk, "amount": "0.5"})
    assert response.status_code == 422
    assert 'data-testid="amount-error">单笔提现至少 ¥1.00<' in response.content.decode()
    response = client.post("/wallet/", {"shop": shop.pk, "amount": "abc"})
    assert 'data-testid="amount-error">请输入金额，如 35.90，最多两位小数<' in response.content.decode()
    response = client.post("/wallet/", {"shop": shop.pk, "amount": "100.01"})
    assert 'data-testid="amount-error">余额不足<' in response.content.decode()
    response = client.post("/wallet/", {"shop": shop.pk, "amount": "25.50"})
    assert response.status_code == 302
    assert Withdrawal.objects.get().amount_fen == 2_550
    body = client.get(response["Location"]).content.decode()
    assert 'data-testid="balance-in-transit">¥25.50<' in body
    assert "待审核" in body


def test_a_member_without_a_wallet_sees_an_empty_page_and_visitors_sign_in():
    response = member_client(UserFactory.create()).get("/wallet/")
    assert 'data-testid="empty-wallet"' in response.content.decode()
    assert Client().get("/wallet/").status_code == 302


def test_the_holder_api(shop, holder):
    client = member_client(holder)
    headers = bearer(holder)
    created = client.post(
        f"/api/v1/wallets/shops/{shop.pk}/withdrawals", {"amount_fen": 3_000}, content_type="application/json",
        headers=headers,
    )  # fmt: skip
    assert created.status_code == 201
    assert (created.json()["status"], created.json()["amount_fen"]) == ("requested", 3_000)
    too_much = client.post(
        f"/api/v1/wallets/shops/{shop.pk}/withdrawals", {"amount_fen": 7_001}, content_type="application/json",
        headers=headers,
    )  # fmt: skip
    assert (too_much.status_code, too_much.json()["code"]) == (409, "insufficient_balance")
    balances = client.get(f"/api/v1/wallets/shops/{shop.pk}/balances", headers=headers).json()
    assert balances == {
        "frozen_fen": 0, "available_fen": 7_000, "in_transit_fen": 3_000, "paid_out_fen": 0, "spendable_fen": 0,
    }  # fmt: skip
    entries = client.get(f"/api/v1/wallets/shops/{shop.pk}/entries", headers=headers).json()
    assert entries["count"] == 3  # the credit, then out of available and into transit
    listed = client.get(f"/api/v1/wallets/shops/{shop.pk}/withdrawals", headers=headers).json()
    assert [w["amount_fen"] for w in listed["items"]] == [3_000]
    assert client.get("/api/v1/wallets/shops/999999/balances", headers=headers).status_code == 404


def test_the_finance_queue_page_approves_and_rejects(shop, holder, finance):
    small = actions.request_withdrawal(shop, holder, 2_000)
    other = actions.request_withdrawal(shop, holder, 3_000)
    client = login(finance)
    page = client.get("/console/withdrawals/").content.decode()
    assert page.count('data-testid="withdrawal-row"') == 2
    client.post(f"/console/withdrawals/{small.pk}/", {"action": "approve"})
    response = client.post(f"/console/withdrawals/{other.pk}/", {"action": "reject", "reason": ""}, follow=True)
    assert "请填写驳回原因" in response.content.decode()
    client.post(f"/console/withdrawals/{other.pk}/", {"action": "reject", "reason": "信息不符"})
    assert dict(Withdrawal.objects.values_list("pk", "status")) == {
        small.pk: WithdrawalStatus.PAYING,
        other.pk: WithdrawalStatus.REJECTED,
    }
    assert ledger.holder_balances(shop, holder)["available"] == 8_000


def test_the_finance_api_and_other_shops_get_404(shop, holder, finance):
    withdrawal = actions.request_withdrawal(shop, holder, 2_000)
    headers = bearer(finance)
    client = login(finance)
    queue = client.get("/api/v1/wallets/console/withdrawals", headers=headers).json()
    assert [w["id"] for w in queue["items"]] == [withdrawal.pk]
    assert queue["items"][0]["holder_name"] == mask_name(holder.display_name)

    other_shop = ShopFactory.create(slug="other")
    other_finance = StaffFactory.create(shop=other_shop, role=StaffRole.FINANCE).user
    other = login(other_finance)
    response = other.post(f"/api/v1/wallets/console/withdrawals/{withdrawal.pk}/approve", headers=bearer(other_finance))
    assert (response.status_code, response.json()["code"]) == (404, "withdrawal_not_found")
    assert other.post(f"/console/withdrawals/{withdrawal.pk}/", {"action": "approve"}).status_code == 302
    assert Withdrawal.objects.get().status == WithdrawalStatus.REQUESTED

    operator = StaffFactory.create(shop=shop, role=StaffRole.OPERATOR).user
    assert login(operator).get("/console/withdrawals/").status_code == 403

    rejected = client.post(
        f"/api/v1/wallets/console/withdrawals/{withdrawal.pk}/reject", {"reason": "重复申请"},
        content_type="application/json", headers=headers,
    )  # fmt: skip
    assert (rejected.status_code, rejected.json()["status"]) == (200, "rejected")
    again = client.post(f"/api/v1/wallets/console/withdrawals/{withdrawal.pk}/approve", headers=headers)
    assert (again.status_code, again.json()["code"]) == (409, "invalid_withdrawal_state")


@pytest.mark.parametrize(("typed", "message"), yuan_refusals())
def test_a_withdrawal_amount_that_cannot_be_read_is_an_error_beside_the_field(shop, holder, typed, message):
    response = member_client(holder).post("/wallet/", {"shop": shop.pk, "amount": typed})
    assert response.status_code == 422
    html = response.content.decode()
    assert message in beside_input(html, "amount")
    assert keeps_typed_value(html, "amount", typed)
    assert not Withdrawal.objects.exists()


def test_a_withdrawal_in_yuan_is_requested_in_fen(shop, holder):
    response = member_client(holder).post("/wallet/", {"shop": shop.pk, "amount": "35.90"})
    assert response.status_code == 302
    assert Withdrawal.objects.get().amount_fen == 3590
