"""Stored value through the real order and payment flows: top up with a bonus, pay from the
balance alone or with the sandbox's WeChat Pay, refunds back to each source, unpaid orders give
the balance back, and a member asks for the unused principal back."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from shequn.core.errors import DomainError
from shequn.orders.actions import cancel_order_by_member, close_unpaid_order, request_refund
from shequn.orders.enums import OrderStatus, RefundStatus
from shequn.payments import actions as payment_actions
from shequn.payments.models import GatewayRefund, Payment
from shequn.shops.enums import StaffRole
from shequn.storedvalue import actions, selectors
from shequn.storedvalue.models import BalanceCharge
from shequn.testing.factories import ShopFactory, StaffFactory, UserFactory
from shequn.testing.orders import auth_headers
from shequn.testing.payments import make_order
from shequn.testing.storedvalue import make_plan, pay_at_sandbox, top_up
from shequn.wallets import ledger
from shequn.wallets.enums import AccountKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def shop(db):
    return ShopFactory.create()


@pytest.fixture
def member(db):
    return UserFactory.create()


@pytest.fixture
def finance(shop):
    return StaffFactory.create(shop=shop, role=StaffRole.FINANCE).user


def balances(shop, member):
    return selectors.member_balances(shop, member)


def test_a_paid_top_up_credits_principal_and_bonus_apart(sandbox, commit, shop, member):
    plan = make_plan(shop, 100_000, 10_000)

    order = top_up(member, plan, commit)

    assert order.status == OrderStatus.COMPLETED
    assert (balances(shop, member).principal_fen, balances(shop, member).bonus_fen) == (100_000, 10_000)
    assert ledger.balance(shop, AccountKind.STORED_VALUE_FUNDS) == -100_000
    assert ledger.balance(shop, AccountKind.PROMOTION_EXPENSE) == -10_000
    assert selectors.liabilities(shop).owed_fen == 110_000
    assert selectors.books_balance(shop) == []


def test_a_top_up_is_not_refunded_as_an_order_nor_paid_from_a_balance(sandbox, commit, shop, member):
    plan = make_plan(shop, 10_000, 0)
    order = top_up(member, plan, commit)
    with pytest.raises(DomainError) as refused:
        request_refund(member, order.number, order.lines.get().pk, amount_fen=100, reason="不想要了")
    assert refused.value.code == "top_up_not_refundable"

    second = make_order_of(plan, member)
    with pytest.raises(DomainError) as not_usable:
        payment_actions.start_payment(second, member, use_balance=True)
    assert not_usable.value.code == "balance_not_usable"


def make_order_of(plan, member):
    from shequn.orders import actions as order_actions

    return order_actions.create_order(
        member, sku_id=plan.product.skus.get().pk, fulfilment="none", payment_method="sandbox"
    )


def test_balance_alone_pays_the_order_at_once(sandbox, commit, shop, member):
    top_up(member, make_plan(shop, 100_000, 10_000), commit)
    order = make_order(shop=shop, user=member, price_fen=33_000)

    url = payment_actions.start_payment(order, member, use_balance=True)

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert url == f"/orders/{order.number}/"
    payment = Payment.objects.get(order=order)
    assert (payment.gateway, payment.amount_fen, payment.status) == ("balance", 0, "succeeded")
    charge = BalanceCharge.objects.get(order=order)
    # Principal and bonus in proportion to their balances (100,000 : 10,000).
    assert (charge.principal_fen, charge.bonus_fen, charge.spendable_fen) == (30_000, 3_000, 0)
    assert (balances(shop, member).principal_fen, balances(shop, member).bonus_fen) == (70_000, 7_000)
    assert ledger.balance(shop, AccountKind.BALANCE_SALES) == 33_000
    assert selectors.books_balance(shop) == []


def test_red_packet_money_is_spent_first(sandbox, commit, shop, member):
    top_up(member, make_plan(shop, 10_000, 1_000), commit)
    promotion = ledger.account(shop, AccountKind.PROMOTION_EXPENSE)
    spendable = ledger.account(shop, AccountKind.SPENDABLE, member)
    ledger.post(shop, "redpacket:test", [(promotion, -500), (spendable, 500)])
    order = make_order(shop=shop, user=member, price_fen=1_600)

    payment_actions.start_payment(order, member, use_balance=True)

    charge = BalanceCharge.objects.get(order=order)
    assert (charge.spendable_fen, charge.principal_fen, charge.bonus_fen) == (500, 1_000, 100)
    assert balances(shop, member).spendable_fen == 0


def test_balance_and_wechat_pay_together_then_a_refund_goes_back_to_each_source(sandbox, commit, shop, member, finance):
    top_up(member, make_plan(shop, 10_000, 1_000), commit)  # ¥110 usable
    order = make_order(shop=shop, user=member, price_fen=10_000, quantity=2)  # ¥200

    with commit():
        pay_at_sandbox(payment_actions.start_payment(order, member, use_balance=True))

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    payment = Payment.objects.get(order=order)
    assert (payment.gateway, payment.amount_fen, payment.status) == ("sandbox", 9_000, "succeeded")
    assert balances(shop, member).usable_fen == 0

    refund = request_refund(member, order.number, order.lines.get().pk, amount_fen=10_000, reason="坏了")
    with commit():
        payment_actions.approve_refund(shop, refund, finance)

    refund.refresh_from_db()
    assert refund.status == RefundStatus.REFUNDED
    # Half the order back: ¥55 to the balances (¥50 principal, ¥5 bonus), ¥45 through WeChat Pay.
    assert GatewayRefund.objects.get().amount_fen == 4_500
    assert (balances(shop, member).principal_fen, balances(shop, member).bonus_fen) == (5_000, 500)
    order.refresh_from_db()
    assert order.refunded_fen == 10_000

    rest = request_refund(member, order.number, order.lines.get().pk, amount_fen=10_000, reason="坏了")
    with commit():
        payment_actions.approve_refund(shop, rest, finance)
    assert (balances(shop, member).principal_fen, balances(shop, member).bonus_fen) == (10_000, 1_000)
    assert Payment.objects.get(order=order).refunded_fen == 9_000
    assert ledger.balance(shop, AccountKind.BALANCE_SALES) == 0
    assert selectors.books_balance(shop) == []


def test_uneven_refunds_never_take_more_from_a_source_than_it_gave(sandbox, commit, shop, member, finance):
    top_up(member, make_plan(shop, 333, 0), commit)
    order = make_order(shop=shop, user=member, price_fen=1_000)
    with commit():
        pay_at_sandbox(payment_actions.start_payment(order, member, use_balance=True))
    line = order.lines.get()
    for amount in (1, 1, 998):
        refund = request_refund(member, order.number, line.pk, amount_fen=amount, reason="少了")
        with commit():
            payment_actions.approve_refund(shop, refund, finance)
    assert balances(shop, member).principal_fen == 333
    assert sum(GatewayRefund.objects.values_list("amount_fen", flat=True)) == 667
    assert selectors.books_balance(shop) == []


def test_an_unpaid_order_gives_its_balance_back_when_cancelled(sandbox, commit, shop, member):
    top_up(member, make_plan(shop, 5_000, 500), commit)
    order = make_order(shop=shop, user=member, price_fen=9_000)
    payment_actions.start_payment(order, member, use_balance=True)
    assert balances(shop, member).usable_fen == 0

    cancel_order_by_member(member, order.number)

    assert (balances(shop, member).principal_fen, balances(shop, member).bonus_fen) == (5_000, 500)
    assert BalanceCharge.objects.get(order=order).released
    assert selectors.books_balance(shop) == []


def test_asking_for_the_unused_principal_back_refunds_top_ups_and_forfeits_the_bonus(sandbox, commit, shop, member):
    plan = make_plan(shop, 10_000, 1_000)
    first = top_up(member, plan, commit)
    second = top_up(member, plan, commit)
    order = make_order(shop=shop, user=member, price_fen=5_500)
    payment_actions.start_payment(order, member, use_balance=True)  # takes ¥50 principal, ¥5 bonus
    assert balances(shop, member).principal_fen == 15_000

    with commit():
        asked = actions.do_request_principal_refund(member, shop)

    assert asked == 15_000
    # The newest top-up first: all of the second, half of the first.
    refunds = {r.payment.order_id: r for r in GatewayRefund.objects.select_related("refund_request", "payment")}
    assert refunds[second.pk].amount_fen == 10_000
    assert refunds[first.pk].amount_fen == 5_000
    assert {r.refund_request.status for r in refunds.values() if r.refund_request} == {RefundStatus.REFUNDED}
    after = balances(shop, member)
    assert (after.principal_fen, after.bonus_fen, after.refunding_fen) == (0, 0, 0)
    assert ledger.balance(shop, AccountKind.STORED_VALUE_FUNDS) == -5_000  # the ¥50 spent stays with the shop
    assert selectors.books_balance(shop) == []
    with pytest.raises(DomainError) as nothing:
        actions.do_request_principal_refund(member, shop)
    assert nothing.value.code == "no_principal_to_refund"


def test_a_late_gateway_payment_of_an_order_whose_balance_went_back_is_refunded_not_reinstated(
    sandbox, commit, shop, member
):
    top_up(member, make_plan(shop, 1_000, 0), commit)
    order = make_order(shop=shop, user=member, price_fen=3_000)
    url = payment_actions.start_payment(order, member, use_balance=True)
    assert order.expires_at is not None
    with time_machine.travel(order.expires_at + timedelta(seconds=1)):
        assert close_unpaid_order(order.pk)
    assert balances(shop, member).principal_fen == 1_000  # the balance part came back at close

    with commit():
        pay_at_sandbox(url)  # the member paid WeChat Pay's ¥20 just as the order closed

    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED
    late = GatewayRefund.objects.get(payment__order=order)
    assert (late.out_refund_no, late.amount_fen) == (f"LATE{order.number}", 2_000)
    assert balances(shop, member).principal_fen == 1_000
    assert selectors.books_balance(shop) == []


def test_the_pay_api_uses_the_balance_when_asked(sandbox, commit, shop, member):
    top_up(member, make_plan(shop, 10_000, 0), commit)
    order = make_order(shop=shop, user=member, price_fen=2_500)

    response = Client().post(
        f"/api/v1/payments/orders/{order.number}/pay?use_balance=true", headers=auth_headers(member)
    )

    assert response.status_code == 200
    assert response.json()["pay_url"] == f"/orders/{order.number}/"
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert balances(shop, member).principal_fen == 7_500


def test_the_balance_page_asks_the_principal_back_and_shows_it_on_its_way(sandbox, commit, shop, member):
    top_up(member, make_plan(shop, 20_000, 2_000), commit)
    browser = Client()
    browser.force_login(member)

    response = browser.post(f"/stored-value/{shop.pk}/principal-refund/")  # the gateway is asked after commit

    assert response.status_code == 302
    page = browser.get("/stored-value/").content.decode()
    assert 'data-testid="refunding">¥200.00' in page
    assert 'data-testid="principal">¥0.00' in page
    assert 'data-testid="bonus">¥0.00' in page  # forfeited with the principal, as the page said
    assert selectors.liabilities(shop).refunding_fen == 20_000
    assert selectors.books_balance(shop) == []

    with commit():
        payment_actions.reconcile(older_than=timedelta(0))  # submitted now; the sandbox refunds and notifies
    assert selectors.member_balances(shop, member).owed_fen == 0
    assert ledger.balance(shop, AccountKind.STORED_VALUE_FUNDS) == 0
    assert selectors.books_balance(shop) == []
