import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from shequn.catalog.kinds import ProductKind
from shequn.flashsales import actions
from shequn.flashsales.models import FlashItem, FlashSale, FlashSession
from shequn.orders.models import Order
from shequn.testing.factories import SkuFactory

from .conftest import buyer, item_of, login, make_running, sale_input

pytestmark = pytest.mark.django_db
HTMX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}


def test_member_page_reserve_buy_queue_then_order(running, commit):
    member = buyer()
    client = login(member)
    html = client.get(f"/flash/{running.pk}/").content.decode()
    assert "已预约 0 人" in html
    assert "立即抢购" in html
    assert 'data-testid="countdown"' in html
    with commit():
        client.post(f"/flash/{running.pk}/reserve/")
        client.post(f"/flash/{running.pk}/reserve/")
    assert "已预约 1 人" in client.get(f"/flash/{running.pk}/").content.decode()
    FlashSale.objects.filter(pk=running.pk).update(reservation_count=1_938_000)
    assert "已预约 1,938,000 人" in client.get(f"/flash/{running.pk}/").content.decode()
    assert "已预约 1,938,000 人" in client.get("/flash/").content.decode()
    item = item_of(running)
    queued = client.post(f"/flash/items/{item.pk}/buy/", **HTMX).content.decode()
    assert "排队中" in queued
    assert 'hx-trigger="every 1s"' in queued
    claim_id = queued.split("/flash/claims/")[1].split("/")[0]
    with commit():
        result = client.get(f"/flash/claims/{claim_id}/", **HTMX).content.decode()
    order = Order.objects.get(user=member)
    assert f'订单 <a href="/orders/{order.number}/"' in result
    assert "去支付" in result
    again = client.post(f"/flash/items/{item.pk}/buy/", **HTMX).content.decode()
    assert "每人限购 1 件" in again


def test_non_reservers_are_refused_in_chinese_during_the_priority_window(shop, operator, sku, commit, sandbox):
    sale = make_running(shop, operator, sku, commit, priority_minutes=10)
    client = login(buyer("路人"))
    refused = client.post(f"/flash/items/{item_of(sale).pk}/buy/", **HTMX).content.decode()
    assert "预约用户优先购买中" in refused
    assert 'data-code="flash_priority_only"' in refused


def test_before_the_start_the_page_counts_down_and_offers_only_reserving(shop, operator, sku, commit):
    sale = actions.create_sale(shop, operator, sale_input(sku, starts_in=timedelta(hours=2)))
    with commit():
        actions.schedule_sale(shop, operator, sale.pk)
    html = login(buyer()).get(f"/flash/{sale.pk}/").content.decode()
    assert "距开抢还剩" in html
    assert "未开始" in html
    assert 'data-testid="reserve"' in html
    assert 'data-testid="buy"' not in html
    listed = login(buyer("逛逛")).get("/flash/").content.decode()
    assert f'href="/flash/{sale.pk}/"' in listed
    assert "已预约 0 人" in listed


def test_console_creates_in_yuan_schedules_and_shows_live_counters(shop, console_client, sku, commit):
    starts = timezone.localtime() + timedelta(hours=1)
    form = {
        "title": "周五秒杀",
        "reservation_starts_at": (starts - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "session_0_starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
        "session_0_ends_at": (starts + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "payment_timeout_minutes": "10",
        "priority_minutes": "5",
        "session_0_item_0_sku": str(sku.pk),
        "session_0_item_0_price": "2999.00",
        "session_0_item_0_quantity": "5",
        "session_0_item_0_cap": "1",
    }
    refused = console_client.post("/console/flash/new/", form).content.decode()
    assert "「手机 256G」的秒杀价须低于售价" in refused
    assert not FlashSale.objects.exists()
    response = console_client.post("/console/flash/new/", {**form, "session_0_item_0_price": "999.00"})
    sale = FlashSale.objects.get()
    assert response.status_code == 302
    assert FlashItem.objects.get().flash_price_fen == 99900
    with commit():
        console_client.post(f"/console/flash/{sale.pk}/schedule/")
    page = console_client.get(f"/console/flash/{sale.pk}/").content.decode()
    assert "已排期" in page
    assert 'hx-trigger="every 3s"' in page
    assert "✓ 账实相符" in page
    counters = console_client.get(f"/console/flash/{sale.pk}/counters/").content.decode()
    assert '<td data-testid="c-left">5</td>' in counters
    assert "周五秒杀" in console_client.get("/console/flash/").content.decode()


def test_console_sale_with_two_sessions_and_an_edit_that_keeps_every_session(shop, console_client, sku, operator):
    other = SkuFactory.create(product__shop=shop, product__title="耳机", spec="白", price_fen=99900, stock=50)
    starts = timezone.localtime() + timedelta(days=1)

    def at(moment):
        return moment.strftime("%Y-%m-%dT%H:%M")

    form = {
        "title": "两场秒杀",
        "reservation_starts_at": at(starts - timedelta(days=1)),
        "payment_timeout_minutes": "10",
        "priority_minutes": "0",
        "session_0_starts_at": at(starts),
        "session_0_ends_at": at(starts + timedelta(hours=1)),
        "session_0_item_0_sku": str(sku.pk),
        "session_0_item_0_price": "999.00",
        "session_0_item_0_quantity": "5",
        "session_0_item_0_cap": "1",
        "session_1_item_0_sku": str(other.pk),
        "session_1_item_0_price": "99.00",
        "session_1_item_0_quantity": "20",
        "session_1_item_0_cap": "2",
    }
    refused = console_client.post("/console/flash/new/", form).content.decode()
    assert "第 2 场请填写开抢时间和结束时间" in refused
    assert not FlashSale.objects.exists()
    form |= {
        "session_1_starts_at": at(starts + timedelta(hours=20)),
        "session_1_ends_at": at(starts + timedelta(hours=21)),
    }
    assert console_client.post("/console/flash/new/", form).status_code == 302
    sale = FlashSale.objects.get()
    sessions = list(sale.sessions.order_by("starts_at"))
    assert [[(i.sku_id, i.flash_price_fen, i.quantity) for i in s.items.all()] for s in sessions] == [
        [(sku.pk, 99900, 5)],
        [(other.pk, 9900, 20)],
    ]

    # A sale made through the API with four sessions: the console's edit form shows all four (and
    # an empty fifth), and saving it unchanged keeps them.
    api_sale = actions.create_sale(shop, operator, sale_input(sku, starts_in=timedelta(days=3)))
    template = api_sale.sessions.get()
    for hours in (2, 4, 6):
        session = FlashSession.objects.create(
            sale=api_sale,
            starts_at=template.starts_at + timedelta(hours=hours),
            ends_at=template.ends_at + timedelta(hours=hours),
        )
        FlashItem.objects.create(session=session, sku=sku, flash_price_fen=99900, quantity=hours, per_person_cap=1)
    page = console_client.get(f"/console/flash/{api_sale.pk}/edit/").content.decode()
    assert 'data-testid="session-5"' in page
    assert 'data-testid="session-6"' not in page
    # What the browser sends back: every input's value and every select's chosen option.
    inputs = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page))
    chosen = r'<select name="([^"]+)"[^>]*>(?:(?!</select>).)*?<option value="(\d+)" selected'
    selects = dict(re.findall(chosen, page, re.S))
    assert console_client.post(f"/console/flash/{api_sale.pk}/edit/", inputs | selects).status_code == 302
    quantities = [[i.quantity for i in s.items.all()] for s in api_sale.sessions.order_by("starts_at")]
    assert quantities == [[3], [2], [4], [6]]


def test_console_of_another_shop_gets_404(running, other_console_client):
    for url in ("", "edit/", "counters/"):
        assert other_console_client.get(f"/console/flash/{running.pk}/{url}").status_code == 404
    for move in ("pause", "end"):
        assert other_console_client.post(f"/console/flash/{running.pk}/{move}/").status_code == 404
    assert FlashSale.objects.get(pk=running.pk).status == "running"


def test_a_claim_that_never_becomes_an_order_stops_queueing_after_three_minutes(running):
    """An admission lost with the gate's Redis never reaches the database: the page stops saying 排队中."""
    client = login(buyer())
    lost = "f00dfeedf00dfeedf00dfeed-7"
    waiting = client.get(f"/flash/claims/{lost}/?n=5", **HTMX).content.decode()
    assert "排队中" in waiting
    assert f"/flash/claims/{lost}/?n=6" in waiting  # the next poll counts on
    gave_up = client.get(f"/flash/claims/{lost}/?n=180", **HTMX).content.decode()
    assert "排队超时，暂未生成订单" in gave_up
    assert "hx-get" not in gave_up  # polling stops
    assert "排队中" in client.get(f"/flash/claims/{lost}/?n=oops", **HTMX).content.decode()


def test_console_form_offers_goods_only(shop, console_client, sku):
    course = SkuFactory.create(product__shop=shop, product__title="鱼料理训练营", product__kind=ProductKind.COURSE)
    page = console_client.get("/console/flash/new/").content.decode()
    assert f'<option value="{sku.pk}">' in page
    assert f'<option value="{course.pk}">' not in page


def test_a_reserver_in_wechat_is_offered_the_start_reminder_under_the_share_cards_one_config(
    shop, operator, sku, commit, wechat_subscribe
):
    from shequn.testing.wechat import TEMPLATES, WECHAT_USER_AGENT, bind_wechat

    sale = actions.create_sale(shop, operator, sale_input(sku, starts_in=timedelta(hours=2)))
    with commit():
        actions.schedule_sale(shop, operator, sale.pk)
    member = buyer()
    bind_wechat(member, "小林")
    client = login(member)
    client.defaults["HTTP_USER_AGENT"] = WECHAT_USER_AGENT
    assert "wx-open-subscribe" not in client.get(f"/flash/{sale.pk}/").content.decode()  # not reserved yet

    client.post(f"/flash/{sale.pk}/reserve/")
    html = client.get(f"/flash/{sale.pk}/").content.decode()

    assert f'<wx-open-subscribe template="{TEMPLATES["flashsale_started"]}"' in html
    assert 'id="wechat-share"' in html  # the share card's wx.config (it lists the open tag) …
    assert "wechat-subscribe-config" not in html  # … is the page's only one
    assert html.count("jweixin-1.6.0.js") == 1
