"""Commission lifecycle: frozen on payment, reversed on refunds, settled after the window."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shequn.communities import actions as community_actions
from shequn.communities import selectors as community_selectors
from shequn.communities.enums import JoinPolicy
from shequn.distribution import actions, commissions, tasks
from shequn.distribution.enums import CommissionStatus
from shequn.distribution.errors import InvalidRule
from shequn.distribution.models import Commission, CommissionRule
from shequn.notifications.models import Notification
from shequn.orders import actions as order_actions
from shequn.orders.enums import Fulfilment, OrderStatus, PaymentMethod
from shequn.testing.factories import AddressFactory, CommunityFactory, UserFactory
from shequn.testing.orders import make_sku, make_staff, paid_order
from shequn.wallets import ledger
from shequn.wallets.enums import AccountKind
from shequn.wallets.models import Account, LedgerTransaction

from .helpers import approved_promoter, chain

pytestmark = pytest.mark.django_db


def balances(shop, promoter):
    found = ledger.holder_balances(shop, promoter.user)
    return found.get(AccountKind.FROZEN, 0), found.get(AccountKind.AVAILABLE, 0)


@pytest.fixture
def setup(shop, operator):
    actions.do_update_settings(operator, shop, {"tiers": 2, "attribution": "last_touch"})
    actions.do_save_rule(operator, shop, {"scope": "shop", "kind": "percent", "tier1_value": 1000, "tier2_value": 300})
    promoters = chain(shop, "ABCDE")
    buyer = promoters["E"].user
    AddressFactory.create(user=buyer)
    return promoters, buyer, make_sku(shop, price_fen=5000, stock=10)


def deliver_and_complete(shop, order):
    staff = make_staff(shop)
    order_actions.ship_order(shop, order.pk, staff, tracking_company="顺丰", tracking_number="SF1")
    order_actions.mark_delivered(shop, order.pk, staff)
    later = timezone.now() + timedelta(days=settings.AFTER_SALES_WINDOW_DAYS + 1)
    assert order_actions.auto_complete_orders(now=later) == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED


def test_in_a_chain_five_deep_only_the_two_promoters_above_the_buyer_earn(shop, setup):
    promoters, buyer, sku = setup
    # Sign-ups alone earned nobody anything.
    assert Commission.objects.count() == 0
    assert all(balances(shop, p) == (0, 0) for p in promoters.values())

    order = paid_order(buyer, sku, quantity=2)  # 100.00 of goods + shipping (not commissioned)
    assert balances(shop, promoters["D"]) == (1000, 0)  # tier 1: 10% of 100.00
    assert balances(shop, promoters["C"]) == (300, 0)  # tier 2: 3%
    for name in "ABE":
        assert balances(shop, promoters[name]) == (0, 0)
    assert Commission.objects.count() == 2

    # Idempotent: the receiver running again moves nothing.
    commissions.on_order_paid(None, order=order)
    assert balances(shop, promoters["D"]) == (1000, 0)

    deliver_and_complete(shop, order)
    assert tasks.settle_commissions.call_local() == 2
    assert tasks.settle_commissions.call_local() == 0
    assert balances(shop, promoters["D"]) == (0, 1000)
    assert balances(shop, promoters["C"]) == (0, 300)
    assert set(Commission.objects.values_list("status", flat=True)) == {CommissionStatus.SETTLED}
    assert list(
        Notification.objects.filter(user=promoters["D"].user).order_by("id").values_list("title", flat=True)
    ) == ["新佣金 ¥10.00（冻结中）", "佣金 ¥10.00 已结算，可提现"]


def test_tier_two_earns_nothing_when_the_shop_keeps_one_tier(shop, operator, setup):
    promoters, buyer, sku = setup
    actions.do_update_settings(operator, shop, {"tiers": 1})
    paid_order(buyer, sku)
    assert balances(shop, promoters["D"]) == (500, 0)
    assert balances(shop, promoters["C"]) == (0, 0)


def test_a_buyer_who_never_came_through_a_link_earns_nobody_commission(shop, setup):
    _promoters, _, sku = setup
    stranger = UserFactory.create()
    AddressFactory.create(user=stranger)
    paid_order(stranger, sku)
    assert Commission.objects.count() == 0


def test_refund_before_settlement_removes_the_frozen_commission(shop, operator, setup):
    promoters, buyer, sku = setup
    order = paid_order(buyer, sku, quantity=2)
    line = order.lines.get()
    refund = order_actions.request_refund(buyer, order.number, line.pk, amount_fen=5000, reason="坏了一个")
    order_actions.approve_refund(refund, operator)
    order_actions.complete_refund(refund)
    assert balances(shop, promoters["D"]) == (500, 0)
    assert balances(shop, promoters["C"]) == (150, 0)

    refund = order_actions.request_refund(buyer, order.number, line.pk, amount_fen=5000, reason="都坏了")
    order_actions.approve_refund(refund, operator)
    order_actions.complete_refund(refund)
    assert balances(shop, promoters["D"]) == (0, 0)
    assert balances(shop, promoters["C"]) == (0, 0)
    assert set(Commission.objects.values_list("status", flat=True)) == {CommissionStatus.REVERSED}


def test_refund_after_settlement_is_a_reversal_that_may_leave_a_debt(shop, operator, setup):
    promoters, buyer, sku = setup
    order = paid_order(buyer, sku, quantity=2)
    deliver_and_complete(shop, order)
    tasks.settle_commissions.call_local()
    assert balances(shop, promoters["D"]) == (0, 1000)
    d = promoters["D"].user
    # D withdraws the 10.00 (in transit), then the buyer gets a refund after completion.
    ledger.post(
        shop,
        "test-withdrawal",
        [
            (ledger.account(shop, AccountKind.AVAILABLE, d), -1000),
            (ledger.account(shop, AccountKind.IN_TRANSIT, d), 1000),
        ],
    )
    line = order.lines.get()
    refund = order_actions.request_refund(buyer, order.number, line.pk, amount_fen=10000, reason="售后")
    order_actions.approve_refund(refund, operator)
    order_actions.complete_refund(refund)
    assert balances(shop, promoters["D"]) == (0, -1000)  # a debt
    assert balances(shop, promoters["C"]) == (0, 0)
    commission = Commission.objects.get(tier=1)
    assert (commission.status, commission.reversed_fen) == (CommissionStatus.SETTLED, 1000)

    # The next settled commission pays the debt back first.
    again = paid_order(buyer, sku, quantity=3)
    deliver_and_complete(shop, again)
    tasks.settle_commissions.call_local()
    assert balances(shop, promoters["D"]) == (0, 500)


def test_a_self_purchase_earns_nothing(shop):
    promoter = approved_promoter(shop)
    AddressFactory.create(user=promoter.user)
    paid_order(promoter.user, make_sku(shop))
    assert Commission.objects.count() == 0


def test_a_level_earned_by_own_settled_sales_raises_the_tier_one_rate(shop, operator, setup):
    promoters, buyer, sku = setup
    actions.do_save_level(operator, shop, name="银牌", min_sales_fen=10000, extra_bp=500)
    first = paid_order(buyer, sku, quantity=2)  # 100.00 at 10%: no level yet
    assert balances(shop, promoters["D"]) == (1000, 0)
    deliver_and_complete(shop, first)
    tasks.settle_commissions.call_local()
    paid_order(buyer, sku, quantity=2)  # D reached 银牌 by own sales: 15% now; C's tier 2 unchanged
    assert balances(shop, promoters["D"]) == (1500, 1000)
    assert balances(shop, promoters["C"]) == (300, 300)


def test_a_sweep_pays_each_promoter_once_per_batch_and_leaves_the_rest_for_the_next(shop, setup):
    promoters, buyer, sku = setup
    orders = [paid_order(buyer, sku) for _ in range(3)]  # 50.00 each: D earns 5.00, C 1.50 per order
    for order in orders:
        deliver_and_complete(shop, order)

    assert commissions.settle_completed(limit=4) == 4  # the first two orders' commission, both tiers
    assert balances(shop, promoters["D"]) == (500, 1000)
    assert balances(shop, promoters["C"]) == (150, 300)
    moves = LedgerTransaction.objects.filter(reference__startswith="commission-settle:")
    assert sorted(moves.values_list("memo", flat=True)) == ["2 笔订单售后期结束，佣金结算"] * 2
    assert list(
        Notification.objects.filter(user=promoters["D"].user, title__contains="已结算").values_list("title", "body")
    ) == [("佣金 ¥10.00 已结算，可提现", "2 笔订单售后期已结束")]

    assert commissions.settle_completed(limit=4) == 2
    assert commissions.settle_completed(limit=4) == 0
    assert balances(shop, promoters["D"]) == (0, 1500)
    assert balances(shop, promoters["C"]) == (0, 450)
    assert moves.count() == 4
    assert sum(Account.objects.filter(shop=shop).values_list("balance_fen", flat=True)) == 0


def test_a_community_fee_earns_nobody_commission_but_goods_from_the_same_buyer_do(shop, operator, setup):
    """Paying promoters for bringing in fee-paying members would be paying per recruit."""
    promoters, buyer, sku = setup
    community = CommunityFactory.create(shop=shop)
    community_actions.do_update_membership_settings(
        shop, community, join_policy=JoinPolicy.OPEN, fee_fen=9900, validity_days=365, actor=operator
    )
    fee = community_selectors.fee_skus(community)["入会"]
    order = order_actions.create_order(
        buyer, sku_id=fee.pk, quantity=1, fulfilment=Fulfilment.NONE, payment_method=PaymentMethod.SANDBOX
    )
    order_actions.mark_paid(order)
    assert order.kind == "membership"
    assert Commission.objects.count() == 0
    assert balances(shop, promoters["D"]) == (0, 0)

    paid_order(buyer, sku)  # the same bound buyer's goods order earns as usual
    assert balances(shop, promoters["D"]) == (500, 0)


def test_a_rule_for_a_community_fee_is_refused(shop, operator):
    community = CommunityFactory.create(shop=shop)
    community_actions.do_update_membership_settings(
        shop, community, join_policy=JoinPolicy.OPEN, fee_fen=9900, validity_days=365, actor=operator
    )
    fee = community_selectors.fee_skus(community)["入会"]
    with pytest.raises(InvalidRule) as refused:
        actions.do_save_rule(
            operator, shop, {"scope": "product", "product_id": fee.product_id, "kind": "percent", "tier1_value": 500}
        )
    assert refused.value.message == "社群会费不计佣金：为拉人入会付费属于按人头计酬"
    assert not CommissionRule.objects.exists()


def test_after_a_level_is_deleted_new_commission_falls_back_and_earned_commission_stays(shop, operator, setup):
    promoters, buyer, sku = setup
    level = actions.do_save_level(operator, shop, name="银牌", min_sales_fen=0, extra_bp=500)
    paid_order(buyer, sku, quantity=2)  # 100.00 at 10% + 5 points
    assert balances(shop, promoters["D"]) == (1500, 0)
    actions.do_delete_level(operator, shop, level)
    paid_order(buyer, sku, quantity=2)  # back to the rule's 10%
    assert balances(shop, promoters["D"]) == (2500, 0)
    assert sorted(Commission.objects.filter(tier=1).values_list("amount_fen", flat=True)) == [1000, 1500]


def test_the_settlement_message_counts_orders_not_lines(shop, setup):
    promoters, buyer, sku = setup
    second = make_sku(shop, price_fen=3000, stock=10)
    order = order_actions.create_order(
        buyer,
        lines=[(sku.pk, 1), (second.pk, 1)],
        fulfilment=Fulfilment.DELIVERY,
        payment_method=PaymentMethod.SANDBOX,
        address_id=buyer.addresses.first().pk,
    )
    order_actions.mark_paid(order)
    deliver_and_complete(shop, order)
    tasks.settle_commissions.call_local()
    assert balances(shop, promoters["D"]) == (0, 800)  # 10% of 50.00 + 30.00, two lines
    assert list(
        Notification.objects.filter(user=promoters["D"].user, title__contains="已结算").values_list("title", "body")
    ) == [("佣金 ¥8.00 已结算，可提现", "1 笔订单售后期已结束")]


def settle_statements(shop, sku, promoters: int) -> int:
    """Statements of the sweep settling one completed order for each of ``promoters`` new promoters."""
    english = []
    for n in range(promoters):
        promoter = approved_promoter(shop)
        if n % 2:  # half read English: one message per language, still the same statements
            promoter.user.language = "en"
            promoter.user.save(update_fields=["language"])
            english.append(promoter.user_id)
        buyer = UserFactory.create()
        AddressFactory.create(user=buyer)
        actions.do_bind(promoter, buyer)
        deliver_and_complete(shop, paid_order(buyer, sku))
    with CaptureQueriesContext(connection) as queries:
        assert commissions.settle_completed() == promoters
    settled = Notification.objects.filter(
        body__in=["1 笔订单售后期已结束", "The after-sales period has ended for 1 orders"]
    )
    titles = dict(settled.values_list("user_id", "title"))
    assert len(titles) == promoters
    assert {title for user_id, title in titles.items() if user_id in english} == {
        "Commission ¥5.00 settled and available to withdraw"
    }
    assert {title for user_id, title in titles.items() if user_id not in english} == {"佣金 ¥5.00 已结算，可提现"}
    Notification.objects.filter(pk__in=settled).delete()  # the next call counts its own
    return len(queries)


def test_a_sweep_runs_the_same_statements_for_two_promoters_or_six_and_the_books_stay_exact(shop, operator):
    actions.do_save_rule(operator, shop, {"scope": "shop", "kind": "percent", "tier1_value": 1000})
    sku = make_sku(shop, price_fen=5000, stock=20)
    assert settle_statements(shop, sku, 2) == settle_statements(shop, sku, 6) <= 12
    accounts = Account.objects.filter(shop=shop)
    assert sum(accounts.values_list("balance_fen", flat=True)) == 0
    assert all(account.balance_fen == ledger.entries_total(account.pk) for account in accounts)
    assert sorted(accounts.filter(kind=AccountKind.AVAILABLE).values_list("balance_fen", flat=True)) == [500] * 8
    assert set(Commission.objects.values_list("status", flat=True)) == {CommissionStatus.SETTLED}
