"""Issue 5 end to end in Chromium: a promoter's poster to money in their WeChat balance.

Member A (in the shop's community) applies to promote from 我的 → 推广中心; the operator
approves in the console (auto-approve is off) and sets a 10% rule; A opens the product poster
from the promoter centre and shares its link; B, new to the shop, opens it, buys (¥35.90 +
¥10.00 delivery) and pays in the sandbox cashier; A sees ¥3.59
frozen; the operator ships and marks the order delivered; after the after-sales window
(time-machine) the order completes and the settle task makes the ¥3.59 available; A withdraws it
on /wallet/; a finance staff member approves it on /console/withdrawals/; the sandbox payout's
signed callback reaches the real notify view → A's wallet shows ¥3.59 paid out and nothing left,
the withdrawal shows 已到账 on both sides, the operator's figures show the cost and the referred
sales, and the shop's ledger sums to zero. A second test: a payout the sandbox fails returns the
money to the wallet exactly once, however often the failure is reported, and the page says why.
"""

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone
from huey.contrib.djhuey import HUEY
from playwright.sync_api import expect

from shequn.distribution import actions as distribution_actions
from shequn.distribution import tasks as distribution_tasks
from shequn.distribution.models import Binding, Commission, Promoter
from shequn.notifications.models import Notification
from shequn.orders import actions as order_actions
from shequn.orders.models import Order
from shequn.shops.enums import StaffRole
from shequn.testing.browser import DESKTOP, buy_now_and_pay
from shequn.testing.factories import CommunityFactory, MembershipFactory, ProductFactory, SkuFactory
from shequn.testing.orders import make_member, make_shop, make_staff
from shequn.testing.payments import run_scheduled_tasks, sandbox, sandbox_key_dir
from shequn.wallets import flows, ledger, payouts
from shequn.wallets.models import Account, LedgerTransaction, Withdrawal

__all__ = ["sandbox", "sandbox_key_dir"]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOTIFY_PATH = "/wallets/payouts/notify/"


def shop_ledger_sum(shop: Any) -> int:
    return int(Account.objects.filter(shop=shop).aggregate(s=Sum("balance_fen"))["s"] or 0)


def deliver_payout_callback(page: Any, withdrawal: Withdrawal) -> None:
    """The sandbox decides the transfer and POSTs its signed result to the notify view (as WeChat
    does); then its own delayed task delivers the same result again: the second one moves nothing."""
    result = payouts.SandboxPayoutGateway().decide(withdrawal.out_bill_no)
    assert result is not None
    headers, body = payouts.sandbox_notification(result.out_bill_no, result.state, result.fail_reason)
    response = page.request.post(NOTIFY_PATH, headers={**headers, "Content-Type": "application/json"}, data=body)
    assert response.status == 204
    scheduled = [task.name for task in HUEY.scheduled()]
    assert scheduled.count("deliver_sandbox_transfer") == 1  # the sandbox's own (duplicate) delivery
    run_scheduled_tasks()


def test_a_poster_sale_becomes_money_in_the_promoters_wallet(sandbox, signed_in_page) -> None:
    shop = make_shop(name="千岛湖鲜鱼农场")
    operator = make_staff(shop, role=StaffRole.OPERATOR)
    finance = make_staff(shop, role=StaffRole.FINANCE)
    product = ProductFactory.create(shop=shop, title="挪威三文鱼礼盒", returnable=True)
    SkuFactory.create(product=product, spec="500g", price_fen=3590, stock=10)
    a, b = make_member(nickname="阿甲"), make_member(nickname="阿乙")

    MembershipFactory.create(user=a, community=CommunityFactory.create(shop=shop, name="三文鱼爱好者群"))

    # A, a member of the shop's community, finds the shop in 我的 → 推广中心 and applies for free;
    # the application waits for the operator.
    promoter_page = signed_in_page(a)
    promoter_page.goto("/me/")
    promoter_page.get_by_test_id("promoter-link").click()
    expect(promoter_page.get_by_test_id("shop-to-promote")).to_have_text("千岛湖鲜鱼农场申请")
    promoter_page.get_by_test_id("apply-shop-button").click()
    expect(promoter_page.get_by_text("申请已提交，请等待审核")).to_be_visible()
    expect(promoter_page.get_by_test_id("promoter-status")).to_have_text("待审核")
    expect(promoter_page.get_by_test_id("share-link")).to_have_count(0)

    # The operator approves A and sets a shop-wide 10% tier-1 rule in the console.
    console = signed_in_page(operator, **DESKTOP)
    console.goto("/console/distribution/")
    expect(console.get_by_test_id("pending-promoters")).to_contain_text("阿*")
    console.get_by_test_id("approve-promoter").click()
    expect(console.get_by_text("已处理推广员申请")).to_be_visible()
    expect(console.get_by_test_id("approved-count")).to_have_text("1")
    rule_form = console.get_by_test_id("rule-form")
    rule_form.locator("select[name=scope]").select_option("shop")
    rule_form.locator("select[name=kind]").select_option("percent")
    rule_form.locator("input[name=tier1_value]").fill("10")
    console.get_by_test_id("save-rule").click()
    expect(console.get_by_test_id("rule-tier1")).to_have_text("10%")

    # A opens the promoter centre, then the product's poster, and takes the link from it.
    promoter_page.goto("/promoter/")
    expect(promoter_page.get_by_test_id("promoter-status")).to_have_text("已通过")
    # The shop home, the product and the community's poster.
    expect(promoter_page.get_by_test_id("share-poster")).to_have_count(3)
    title = promoter_page.get_by_test_id("share-row").nth(1).locator(".grow")
    expect(title).to_have_text("挪威三文鱼礼盒")
    box = title.bounding_box()
    assert box is not None
    assert box["height"] < 40  # one line (it was squeezed to a character a line)
    promoter_page.get_by_test_id("share-poster").nth(1).click()
    expect(promoter_page.get_by_test_id("poster-title")).to_have_text("挪威三文鱼礼盒")
    expect(promoter_page.get_by_test_id("poster-shop")).to_have_text("千岛湖鲜鱼农场")
    expect(promoter_page.get_by_test_id("poster-price")).to_have_text("¥35.90")
    expect(promoter_page.get_by_test_id("poster-promoter")).to_have_text("阿* 推荐")
    expect(promoter_page.get_by_test_id("poster-hint")).to_have_text("长按保存图片或截图分享")
    # The QR code really renders (an image that loaded, with its own size).
    promoter_page.wait_for_function(
        "() => { const img = document.querySelector('[data-testid=poster-qr]');"
        " return img.complete && img.naturalWidth > 0 }"
    )
    link = promoter_page.get_by_test_id("poster-link").input_value()
    code = Promoter.objects.get(user=a).code
    assert link.endswith(f"/r/{code}/?to=%2Fs%2F{shop.slug}%2Fp%2F{product.pk}%2F")

    # B, new to the shop, opens the link, is bound to A, buys and pays in the sandbox cashier.
    buyer = signed_in_page(b)
    buyer.goto(link)
    expect(buyer.get_by_test_id("buy-now")).to_be_visible()
    assert Binding.objects.get(customer=b).promoter.user == a
    buy_now_and_pay(buyer)
    order = Order.objects.get(user=b)
    assert order.total_fen == 4590  # ¥35.90 + ¥10.00 delivery; commission is on the goods only

    # A sees ¥3.59 frozen on the promoter centre and in the wallet.
    promoter_page.goto("/promoter/")
    expect(promoter_page.get_by_test_id("frozen")).to_have_text("¥3.59")
    expect(promoter_page.get_by_test_id("available")).to_have_text("¥0.00")
    expect(promoter_page.get_by_test_id("order-count")).to_have_text("1")
    promoter_page.get_by_test_id("wallet-link").click()
    expect(promoter_page.get_by_test_id("balance-frozen")).to_have_text("¥3.59")
    expect(promoter_page.get_by_test_id("balance-available")).to_have_text("¥0.00")

    # The operator ships and marks the order delivered in the console.
    console.goto(f"/console/orders/{order.pk}/")
    console.get_by_test_id("tracking-company").fill("顺丰速运")
    console.get_by_test_id("tracking-number").fill("SF1234567890")
    console.get_by_test_id("ship-button").click()
    console.get_by_test_id("delivered-button").click()
    expect(console.get_by_test_id("delivered-button")).to_have_count(0)
    assert Order.objects.get(pk=order.pk).status == "delivered"

    # The after-sales window passes: the order completes, the sweep settles the commission.
    with time_machine.travel(timezone.now() + timedelta(days=settings.AFTER_SALES_WINDOW_DAYS, hours=1)):
        assert order_actions.auto_complete_orders() == 1
        distribution_tasks.settle_commissions.call_local()
    assert Order.objects.get(pk=order.pk).status == "completed"
    assert list(Commission.objects.values_list("tier", "amount_fen", "status")) == [(1, 359, "settled")]

    promoter_page.goto("/promoter/")
    expect(promoter_page.get_by_test_id("frozen")).to_have_text("¥0.00")
    expect(promoter_page.get_by_test_id("available")).to_have_text("¥3.59")

    # A withdraws all of it on /wallet/.
    promoter_page.goto("/wallet/")
    expect(promoter_page.get_by_test_id("balance-available")).to_have_text("¥3.59")
    promoter_page.get_by_label("提现到微信零钱（元）").fill("3.59")
    promoter_page.get_by_role("button", name="申请提现").click()
    expect(promoter_page.get_by_text("等待审核")).to_be_visible()
    expect(promoter_page.get_by_test_id("balance-available")).to_have_text("¥0.00")
    expect(promoter_page.get_by_test_id("balance-in-transit")).to_have_text("¥3.59")
    expect(promoter_page.get_by_test_id("withdrawal")).to_have_count(1)
    expect(promoter_page.get_by_test_id("withdrawal")).to_contain_text("¥3.59")
    expect(promoter_page.get_by_test_id("withdrawal")).to_contain_text("待审核")

    # A finance staff member approves it; the payout goes to the sandbox.
    finance_page = signed_in_page(finance, **DESKTOP)
    finance_page.goto("/console/withdrawals/")
    expect(finance_page.get_by_test_id("withdrawal-row")).to_have_count(1)
    expect(finance_page.get_by_test_id("withdrawal-row")).to_contain_text("阿*")
    expect(finance_page.get_by_test_id("withdrawal-row")).to_contain_text("¥3.59")
    finance_page.get_by_test_id("withdrawal-approve").click()
    expect(finance_page.get_by_text("正在打款")).to_be_visible()
    withdrawal = Withdrawal.objects.get()
    assert withdrawal.status == "paying"

    # The sandbox's signed result reaches the notify view (and is repeated): paid once.
    deliver_payout_callback(finance_page, withdrawal)
    withdrawal.refresh_from_db()
    assert withdrawal.status == "paid"
    assert ledger.holder_balances(shop, a) == {"frozen": 0, "available": 0, "in_transit": 0, "paid_out": 359}

    promoter_page.reload()
    expect(promoter_page.get_by_test_id("balance-available")).to_have_text("¥0.00")
    expect(promoter_page.get_by_test_id("balance-in-transit")).to_have_text("¥0.00")
    expect(promoter_page.get_by_test_id("balance-paid-out")).to_have_text("¥3.59")
    expect(promoter_page.get_by_test_id("withdrawal")).to_contain_text("已到账")
    promoter_page.goto("/promoter/")
    expect(promoter_page.get_by_test_id("paid-out")).to_have_text("¥3.59")
    expect(promoter_page.get_by_test_id("available")).to_have_text("¥0.00")

    finance_page.goto("/console/withdrawals/?status=paid")
    expect(finance_page.get_by_test_id("withdrawal-row")).to_have_count(1)
    expect(finance_page.get_by_test_id("withdrawal-row")).to_contain_text("已到账")

    # The operator's figures: ¥3.59 commission cost on ¥35.90 referred sales of ¥45.90 paid.
    console.goto("/console/distribution/")
    expect(console.get_by_test_id("commission-cost")).to_have_text("¥3.59")
    expect(console.get_by_test_id("referred-sales")).to_have_text("¥35.90")
    expect(console.get_by_test_id("shop-sales")).to_have_text("¥45.90")
    expect(console.get_by_test_id("top-promoters")).to_contain_text(code)

    # The ledger balances: the shop's expense equals what went out, every account sums to zero.
    assert ledger.balance(shop, "commission_expense") == -359
    assert shop_ledger_sum(shop) == 0
    assert Notification.objects.filter(user=a, kind="wallet.withdrawal_paid").count() == 1


def test_a_failed_payout_returns_the_money_once_and_says_why(sandbox, signed_in_page) -> None:
    shop = make_shop(name="千岛湖鲜鱼农场")
    owner = make_staff(shop)
    finance = make_staff(shop, role=StaffRole.FINANCE)
    a = make_member(nickname="阿甲")
    distribution_actions.do_update_settings(owner, shop, {"auto_approve": True})
    distribution_actions.do_apply(a, shop)
    # ¥10.99 of settled commission (the sandbox fails transfers whose amount ends in 99 fen).
    flows.freeze(shop, a, 1099, reference="e2e:commission", memo="推广佣金")
    flows.settle(shop, a, 1099, reference="e2e:settle", memo="推广佣金结算")

    wallet = signed_in_page(a)
    wallet.goto("/wallet/")
    expect(wallet.get_by_test_id("balance-available")).to_have_text("¥10.99")
    wallet.get_by_label("提现到微信零钱（元）").fill("10.99")
    wallet.get_by_role("button", name="申请提现").click()
    expect(wallet.get_by_test_id("balance-available")).to_have_text("¥0.00")
    expect(wallet.get_by_test_id("balance-in-transit")).to_have_text("¥10.99")

    finance_page = signed_in_page(finance, **DESKTOP)
    finance_page.goto("/console/withdrawals/")
    finance_page.get_by_test_id("withdrawal-approve").click()
    expect(finance_page.get_by_text("正在打款")).to_be_visible()

    withdrawal = Withdrawal.objects.get()
    deliver_payout_callback(finance_page, withdrawal)  # FAIL, and the same FAIL once more
    headers, body = payouts.sandbox_notification(withdrawal.out_bill_no, payouts.FAIL, "收款用户账户异常")
    again = finance_page.request.post(NOTIFY_PATH, headers={**headers, "Content-Type": "application/json"}, data=body)
    assert again.status == 204  # a third report of the same failure is acknowledged, and moves nothing

    withdrawal.refresh_from_db()
    assert (withdrawal.status, withdrawal.failure_reason) == ("failed", "收款用户账户异常")
    assert ledger.holder_balances(shop, a) == {"frozen": 0, "available": 1099, "in_transit": 0, "paid_out": 0}
    returned = LedgerTransaction.objects.filter(reference__startswith="withdrawal:").count()
    assert returned == 2  # the request and one return, never two
    assert Notification.objects.filter(user=a, kind="wallet.withdrawal_failed").count() == 1

    wallet.reload()
    expect(wallet.get_by_test_id("balance-available")).to_have_text("¥10.99")
    expect(wallet.get_by_test_id("balance-in-transit")).to_have_text("¥0.00")
    expect(wallet.get_by_test_id("balance-paid-out")).to_have_text("¥0.00")
    expect(wallet.get_by_test_id("withdrawal")).to_have_count(1)
    expect(wallet.get_by_test_id("withdrawal")).to_contain_text("¥10.99")
    expect(wallet.get_by_test_id("withdrawal")).to_contain_text("打款失败：收款用户账户异常")

    finance_page.goto("/console/withdrawals/?status=failed")
    expect(finance_page.get_by_test_id("withdrawal-row")).to_contain_text("打款失败")
    expect(finance_page.get_by_test_id("withdrawal-row")).to_contain_text("收款用户账户异常")
    assert shop_ledger_sum(shop) == 0
