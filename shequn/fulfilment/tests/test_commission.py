"""Leader commission on completed, non-refunded campaign orders; settlement statements per
period (each order settled once); finance confirms and records the payout."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from shequn.core.errors import PermissionDenied
from shequn.core.models import AuditLog
from shequn.fulfilment import actions, selectors
from shequn.fulfilment.enums import SettlementStatus
from shequn.fulfilment.errors import InvalidPayout, InvalidSettlementState, NothingToSettle
from shequn.fulfilment.models import SettlementLine
from shequn.shops.enums import StaffRole
from shequn.testing.accounts import member_client
from shequn.testing.factories import StaffFactory
from shequn.testing.money import beside_input, keeps_typed_value, yuan_refusals
from shequn.testing.orders import auth_headers
from shequn.testing.two_shops import login

pytestmark = pytest.mark.django_db


def test_commission_is_the_rate_on_what_members_kept_paying(completed):
    first, second = completed.leaders
    rows = {
        r.sign_up.user.nickname: (r.paid_fen, r.refunded_fen, r.commission_fen)
        for r in selectors.commission_rows(first)
    }
    assert rows == {
        "王小明": (7980, 0, 798),
        "李四": (6980, 3990, 299),  # the refunded fish earns nothing
        "张三": (5980, 0, 598),
    }
    [zhao] = selectors.commission_rows(second)
    assert zhao.commission_fen == 958  # 8% of ¥119.70 = 957.6 fen, rounded half up

    page = member_client(first.user).get("/leader/commission/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-testid="commission-total">¥16.95<' in body
    assert body.count('data-testid="commission-row"') == 3
    api = member_client(second.user).get("/api/v1/fulfilment/leader/commission", headers=auth_headers(second.user))
    assert api.json()["total_fen"] == 958
    assert api.json()["unsettled_fen"] == 958


def test_a_settlement_covers_each_order_once_and_finance_records_the_payout(completed, shop, operator):
    first, second = completed.leaders
    day = completed.done_on
    with time_machine.travel(timezone.now() + timedelta(days=settings.AFTER_SALES_WINDOW_DAYS + 2)):
        made = actions.create_settlements(shop, operator, start=day - timedelta(days=3), end=day)
        assert sorted((s.leader_id, s.commission_fen, s.lines.count()) for s in made) == sorted(
            [(first.pk, 1695, 3), (second.pk, 958, 1)]
        )
        with pytest.raises(NothingToSettle):
            actions.create_settlements(shop, operator, start=day - timedelta(days=30), end=day)
    assert SettlementLine.objects.count() == 4
    assert SettlementLine.objects.values("order").distinct().count() == 4

    statement = next(s for s in made if s.leader_id == first.pk)
    with pytest.raises(PermissionDenied):
        actions.confirm_settlement(shop, statement.pk, operator)  # operators create, finance confirms
    finance = StaffFactory.create(shop=shop, role=StaffRole.FINANCE).user
    with pytest.raises(InvalidSettlementState):
        actions.record_payout(shop, statement.pk, finance, amount_fen=1695, reference="WX001")
    actions.confirm_settlement(shop, statement.pk, finance)
    with pytest.raises(InvalidPayout):
        actions.record_payout(shop, statement.pk, finance, amount_fen=1600, reference="WX001")
    payout = actions.record_payout(shop, statement.pk, finance, amount_fen=1695, reference="WX001")
    with pytest.raises(InvalidSettlementState):
        actions.record_payout(shop, statement.pk, finance, amount_fen=1695, reference="WX002")
    statement.refresh_from_db()
    assert statement.status == SettlementStatus.PAID
    assert (payout.amount_fen, payout.reference, payout.recorded_by) == (1695, "WX001", finance)
    assert list(
        AuditLog.objects.filter(object_id=str(statement.pk)).order_by("id").values_list("action", flat=True)
    ) == [
        "settlement.create",
        "settlement.confirm",
        "settlement.payout",
    ]
    assert first.user.notifications.filter(kind="leader.payout").count() == 1
    rows = selectors.commission_rows(first)
    assert all(r.settled for r in rows)


def test_settlement_pages_and_api_and_other_shops_get_404(completed, shop, operator, other_shop, other_console_client):
    day = completed.done_on
    finance = StaffFactory.create(shop=shop, role=StaffRole.FINANCE).user
    with time_machine.travel(timezone.now() + timedelta(days=settings.AFTER_SALES_WINDOW_DAYS + 2)):
        client = login(operator)
        response = client.post("/console/fulfilment/settlements/", {"start": str(day), "end": str(day)})
        assert response.status_code == 302
        page = client.get("/console/fulfilment/settlements/")
        assert page.content.decode().count('data-testid="settlement-row"') == 2
        api = client.post(
            "/api/v1/fulfilment/console/settlements", {"start": str(day), "end": str(day)},
            content_type="application/json", headers=auth_headers(operator),
        )  # fmt: skip
        assert api.status_code == 409
        assert api.json()["code"] == "nothing_to_settle"
    statement = selectors.shop_settlements(shop).get(leader=completed.leaders[1])
    finance_api = auth_headers(finance)
    confirmed = login(finance).post(
        f"/api/v1/fulfilment/console/settlements/{statement.pk}/confirm", headers=finance_api
    )
    assert confirmed.json()["status"] == "confirmed"
    paid = login(finance).post(
        f"/api/v1/fulfilment/console/settlements/{statement.pk}/payout",
        {"amount_fen": 958, "reference": "BANK-7"}, content_type="application/json", headers=finance_api,
    )  # fmt: skip
    assert paid.json()["status"] == "paid"
    assert paid.json()["payout_reference"] == "BANK-7"

    assert other_console_client.get(f"/console/fulfilment/settlements/{statement.pk}/").status_code == 404
    assert other_console_client.get("/console/fulfilment/settlements/").content.decode().count("settlement-row") == 0
    other_finance = StaffFactory.create(shop=other_shop, role=StaffRole.FINANCE).user
    foreign = login(other_finance).post(
        f"/api/v1/fulfilment/console/settlements/{statement.pk}/confirm", headers=auth_headers(other_finance)
    )
    assert foreign.status_code == 404
    page = login(finance).get(f"/console/fulfilment/settlements/{statement.pk}/")
    assert "BANK-7" in page.content.decode()


@pytest.fixture
def confirmed_statement(completed, shop, operator):
    """The second leader's settlement (¥9.58), confirmed by finance: ready for the payout form."""
    with time_machine.travel(timezone.now() + timedelta(days=settings.AFTER_SALES_WINDOW_DAYS + 2)):
        actions.create_settlements(shop, operator, start=completed.done_on, end=completed.done_on)
    statement = selectors.shop_settlements(shop).get(leader=completed.leaders[1])
    finance = StaffFactory.create(shop=shop, role=StaffRole.FINANCE).user
    actions.confirm_settlement(shop, statement.pk, finance)
    return statement, login(finance)


@pytest.mark.parametrize(("typed", "message"), yuan_refusals())
def test_a_payout_amount_that_cannot_be_read_is_an_error_beside_the_field(confirmed_statement, typed, message):
    statement, client = confirmed_statement
    response = client.post(
        f"/console/fulfilment/settlements/{statement.pk}/",
        {"action": "payout", "amount": typed, "reference": "BANK-9"},
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert message in beside_input(page, "amount")
    assert keeps_typed_value(page, "amount", typed)
    assert keeps_typed_value(page, "reference", "BANK-9")
    statement.refresh_from_db()
    assert statement.status == SettlementStatus.CONFIRMED


def test_a_payout_in_yuan_is_recorded_in_fen_and_a_wrong_amount_says_what_is_due(confirmed_statement):
    statement, client = confirmed_statement
    url = f"/console/fulfilment/settlements/{statement.pk}/"
    assert keeps_typed_value(client.get(url).content.decode(), "amount", "9.58")
    wrong = client.post(url, {"action": "payout", "amount": "9.50", "reference": "BANK-9"})
    assert wrong.status_code == 422
    page = wrong.content.decode()
    assert "打款金额与结算金额不一致" in beside_input(page, "amount")
    assert "打款金额应为 ¥9.58" in page
    paid = client.post(url, {"action": "payout", "amount": "9.58", "reference": "BANK-9"})
    assert paid.status_code == 302
    statement.refresh_from_db()
    assert (statement.status, statement.payout.amount_fen) == (SettlementStatus.PAID, 958)
