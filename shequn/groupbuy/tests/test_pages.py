"""Pages: the member's campaign page (items with the real shelf price, countdown, live list,
sign-up form → order page), the live-list fragment, my group-buys, the leader console and the
operator console (create, publish, cancel)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from shequn.groupbuy import actions
from shequn.groupbuy.forms import MAX_PRICE_FEN
from shequn.groupbuy.models import Campaign, SignUp
from shequn.orders.actions import mark_paid
from shequn.testing.factories import UserFactory
from shequn.testing.money import keeps_typed_value, yuan_refusals

from .conftest import login

pytestmark = pytest.mark.django_db


def test_member_page_signs_up_and_lands_on_the_order(world, gate):
    campaign = world.open_campaign()
    item = campaign.items.get()
    client = login(world.members["王小明"])
    page = client.get(f"/groupbuy/campaigns/{campaign.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "¥59.00" in html
    assert "店内价 ¥69.00" in html
    assert 'data-testid="countdown"' in html
    assert 'hx-trigger="every 2s"' in html
    response = client.post(
        f"/groupbuy/campaigns/{campaign.pk}/sign-up/", {f"qty-{item.pk}": "2", "leader": world.leader_east.pk}
    )
    # The gate admits at once and the member waits on the ticket page (排队中) while another
    # consumer holds the claim; once it is written, the page moves on to the order to pay.
    assert response.status_code == 302
    assert response["Location"].startswith("/groupbuy/tickets/")
    claims = gate.read_claims("jielong", "another-consumer")
    assert [(c.pool_key, c.member_id, c.quantity) for c in claims] == [
        (f"jielong:{item.pk}", world.members["王小明"].pk, 2)
    ]
    queued = client.get(response["Location"])
    assert 'data-testid="queued"' in queued.content.decode()
    assert "排队中" in queued.content.decode()
    assert not SignUp.objects.exists()
    polled = client.get(response["Location"], headers={"HX-Request": "true"})
    assert 'hx-trigger="every 1s"' in polled.content.decode()
    actions.materialise_claims(idle_ms=0)  # the claim's consumer died: this one takes it over
    landed = client.get(response["Location"])
    entry = SignUp.objects.get()
    assert landed.status_code == 302
    assert landed["Location"] == f"/orders/{entry.order.number}/"
    assert client.get(response["Location"], headers={"HX-Request": "true"})["HX-Redirect"] == landed["Location"]
    mark_paid(entry.order)
    fragment = client.get(f"/groupbuy/campaigns/{campaign.pk}/list/").content.decode()
    assert "1. 王** ×2 三文鱼 500g" in fragment
    mine = client.get("/groupbuy/mine/").content.decode()
    assert "第 1 号" in mine
    assert 'data-testid="cancel-form"' in mine


def test_sign_up_errors_show_as_messages(world):
    campaign = world.open_campaign()
    item = campaign.items.get()
    client = login(world.members["王小明"])
    response = client.post(f"/groupbuy/campaigns/{campaign.pk}/sign-up/", {f"qty-{item.pk}": "9"}, follow=True)
    assert "「三文鱼 500g」每人限购 5 件" in response.content.decode()
    assert SignUp.objects.count() == 0


def test_outsider_gets_404(world):
    campaign = world.open_campaign()
    assert login(UserFactory.create()).get(f"/groupbuy/campaigns/{campaign.pk}/").status_code == 404


def test_console_creates_publishes_and_lists_with_success_rate(world, console_client):
    now = timezone.localtime()
    form = {
        "title": "基围虾接龙",
        "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
        "deadline": (now + timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M"),
        "pickup_date": (now + timedelta(days=1)).date().isoformat(),
        "min_total_units": "5",
        "item-0-sku": str(world.shrimp.pk),
        "item-0-price": "39.90",
        "item-0-stock": "100",
        "item-0-cap": "",
        "item-0-tiers": "20:35.00, 50:32.00",
        "leaders": [str(world.leader_east.pk), str(world.leader_west.pk)],
    }
    response = console_client.post("/console/groupbuy/new/", form)
    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert campaign.items.get().price_fen == 3990
    assert [(t.min_quantity, t.price_fen) for t in campaign.items.get().tiers.all()] == [(20, 3500), (50, 3200)]
    console_client.post(f"/console/groupbuy/{campaign.pk}/publish/")
    campaign.refresh_from_db()
    assert campaign.status == "open"
    listing = console_client.get("/console/groupbuy/").content.decode()
    assert "基围虾接龙" in listing
    assert "接龙中" in listing
    # One success-rate table, one row per active leader, and a plain-text page title.
    assert listing.count('data-testid="leader-rates"') == 1
    assert listing.count('data-testid="leader-rate-row"') == 2
    assert "<title>社区团购 · " in listing
    bad = console_client.post("/console/groupbuy/new/", {**form, "item-0-tiers": "20:45.00"})
    assert "阶梯价须随件数增加而严格降低" in bad.content.decode()
    console_client.post(f"/console/groupbuy/{campaign.pk}/cancel/", {"reason": "天气原因"})
    campaign.refresh_from_db()
    assert campaign.status == "cancelled"


def test_leader_console_lists_and_creates(world):
    client = login(world.leader_east.user)
    world.open_campaign()
    assert "三文鱼周末接龙" in client.get("/leader/campaigns/").content.decode()
    now = timezone.localtime()
    response = client.post(
        "/leader/campaigns/new/",
        {
            "title": "东苑团长的虾",
            "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
            "deadline": (now + timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M"),
            "pickup_date": (now + timedelta(days=1)).date().isoformat(),
            "item-0-sku": str(world.shrimp.pk),
            "item-0-price": "40.00",
            "item-0-stock": "30",
        },
    )
    campaign = Campaign.objects.get(title="东苑团长的虾")
    assert response.status_code == 302
    assert (campaign.status, campaign.created_by_leader_id) == ("open", world.leader_east.pk)
    assert client.get(f"/leader/campaigns/{campaign.pk}/").status_code == 200
    # Another leader cannot open it.
    assert login(world.leader_west.user).get(f"/leader/campaigns/{campaign.pk}/").status_code == 404


def _campaign_form(world, **change) -> dict:
    now = timezone.localtime()
    return {
        "title": "鲈鱼接龙",
        "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
        "deadline": (now + timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M"),
        "pickup_date": (now + timedelta(days=1)).date().isoformat(),
        "item-0-sku": str(world.shrimp.pk),
        "item-0-price": "39.90",
        "item-0-stock": "100",
        "item-0-tiers": "",
        "leaders": [str(world.leader_east.pk)],
        **change,
    }


@pytest.mark.parametrize("field", ["item-0-price", "item-0-tiers"])
@pytest.mark.parametrize(("typed", "message"), yuan_refusals(max_fen=MAX_PRICE_FEN))
def test_a_campaign_price_that_cannot_be_read_is_the_forms_error(world, console_client, field, typed, message):
    value = typed if field == "item-0-price" else f"20:{typed}"
    response = console_client.post("/console/groupbuy/new/", _campaign_form(world, **{field: value}))
    assert response.status_code == 200  # the form's established re-render, with its message on top
    html = response.content.decode()
    assert f'data-testid="form-error">{message}<' in html
    assert keeps_typed_value(html, "item-0-price", _campaign_form(world, **{field: value})["item-0-price"])
    assert 'value="鲈鱼接龙"' in html
    assert not Campaign.objects.exists()


def test_campaign_prices_in_yuan_are_saved_in_fen_and_shown_back(world, console_client):
    response = console_client.post("/console/groupbuy/new/", _campaign_form(world, **{"item-0-price": "35.90"}))
    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert campaign.items.get().price_fen == 3590
    html = console_client.get(f"/console/groupbuy/{campaign.pk}/edit/").content.decode()
    assert keeps_typed_value(html, "item-0-price", "35.90")
