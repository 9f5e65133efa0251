"""The member's red packet page and API, the console's pages and API, tenancy."""

import json
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from shequn.core.money import format_fen
from shequn.redpackets import tickets
from shequn.redpackets.models import RedPacket, RedPacketGrab
from shequn.testing.factories import StaffFactory, UserFactory
from shequn.wallets import ledger
from shequn.wallets.enums import AccountKind

from .conftest import fund, login, member_of

pytestmark = pytest.mark.django_db


def test_a_member_grabs_on_the_page_and_sees_the_amount_best_luck_and_masked_names(shop, owner, community, commit):
    packet = fund(shop, owner, commit, community, total_fen=300, count=2, title="周末红包")
    wang, li = member_of(community, "王小明"), member_of(community, "李雷")
    page = reverse("redpackets:packet", args=[packet.pk])

    shown = login(wang).get(page).content.decode()
    assert 'data-testid="grab"' in shown
    assert "data-ticket=" in shown
    login(wang).post(reverse("redpackets:grab", args=[packet.pk]))
    login(li).post(reverse("redpackets:grab", args=[packet.pk]))

    shown = login(wang).get(page).content.decode()
    mine = RedPacketGrab.objects.get(member=wang)
    assert f"<strong>{format_fen(mine.amount_fen)}</strong></p>" in shown
    assert 'data-testid="best-luck"' in shown
    assert "王**" in shown
    assert "李*" in shown
    assert "王小明" not in shown


def test_an_outsider_gets_no_ticket_and_the_reason_when_grabbing(shop, owner, community, commit):
    packet = fund(shop, owner, commit, community)
    outsider = login(UserFactory.create())
    page = reverse("redpackets:packet", args=[packet.pk])
    assert "data-ticket=" not in outsider.get(page).content.decode()

    shown = outsider.post(reverse("redpackets:grab", args=[packet.pk]), follow=True).content.decode()
    assert "仅限社群成员领取" in shown
    assert not RedPacketGrab.objects.exists()


def test_the_api_issues_a_ticket_the_grab_takes_it_and_reading_the_packet_shows_my_amount(
    shop, owner, community, commit
):
    packet = fund(shop, owner, commit, community, count=3)
    wang = login(member_of(community, "王小明"))

    ticket = wang.post(f"/api/v1/redpackets/{packet.pk}/ticket").json()["ticket"]
    grabbed = wang.post(f"/api/v1/redpackets/{packet.pk}/grabs", headers={tickets.HEADER: ticket})
    assert grabbed.status_code == 202
    shown = wang.get(f"/api/v1/redpackets/{packet.pk}").json()
    assert shown["my_amount_fen"] == packet.parts_fen[0]
    assert shown["left_count"] == 2
    assert shown["grabs"] == [
        {"name": "王**", "amount_fen": packet.parts_fen[0], "position": 1, "best": False, "mine": True}
    ]
    assert shown["best"] is None  # parts are left
    balances = wang.get(f"/api/v1/wallets/shops/{shop.pk}/balances").json()
    assert (balances["spendable_fen"], balances["available_fen"]) == (packet.parts_fen[0], 0)
    wallet = wang.get(reverse("wallets:wallet")).content.decode()
    assert f'<span data-testid="balance-spendable">{format_fen(packet.parts_fen[0])}</span>' in wallet
    assert "不能提现到微信零钱，可在付款时勾选「使用余额」抵扣；注销账号时作废" in wallet


def test_a_grab_without_a_ticket_needs_the_session_and_csrf(shop, owner, community, commit):
    from django.test import Client

    packet = fund(shop, owner, commit, community)
    member = member_of(community, "王小明")
    assert Client().post(f"/api/v1/redpackets/{packet.pk}/grabs").status_code == 401
    checked = Client(enforce_csrf_checks=True)
    checked.force_login(member)
    assert checked.post(f"/api/v1/redpackets/{packet.pk}/grabs").status_code in (401, 403)
    assert not RedPacketGrab.objects.exists()


def test_the_console_funds_a_pool_from_the_form_and_lists_its_figures(shop, owner, community):
    client = login(owner)
    now = timezone.localtime()
    form = {
        "title": "社群周年红包",
        "total": "100.00",
        "count": "10",
        "split": "equal",
        "audience": "community",
        "community": str(community.pk),
        "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
        "expires_at": (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
    }
    assert client.post(reverse("redpackets:console_fund"), form).status_code == 302
    packet = RedPacket.objects.get(shop=shop)
    assert packet.parts_fen == [1000] * 10
    assert ledger.balance(shop, AccountKind.RED_PACKET_HOLDING) == 10_000

    shown = client.get(reverse("redpackets:console_packets")).content.decode()
    assert "社群周年红包" in shown
    assert "¥100.00 / 10" in shown

    refused = client.post(reverse("redpackets:console_fund"), {**form, "total": "0.05"})
    assert refused.status_code == 422
    assert 'data-testid="error-total"' in refused.content.decode()


def test_the_console_setting_makes_new_packets_withdrawable(shop, owner, community):
    client = login(owner)
    client.post(reverse("redpackets:console_settings"), {"withdrawable": "on"})
    assert client.get("/api/v1/redpackets/console/settings").json() == {"withdrawable": True}


def api_packet(community: Any, **fields: Any) -> dict[str, Any]:
    now = timezone.now()
    return {
        "title": "新年红包",
        "total_fen": 1000,
        "count": 4,
        "split": "random",
        "audience": "community",
        "community_id": community.pk,
        "starts_at": now.isoformat(),
        "expires_at": (now + timedelta(hours=2)).isoformat(),
        **fields,
    }


def test_the_console_api_funds_lists_and_refuses_a_sharing_condition(shop, owner, community):
    client = login(owner)
    created = client.post("/api/v1/redpackets/console/packets", api_packet(community), content_type="application/json")
    assert created.status_code == 201
    assert created.json()["holding_fen"] == 1000
    listed = client.get("/api/v1/redpackets/console/packets").json()
    assert [row["id"] for row in listed["items"]] == [created.json()["id"]]

    for audience in ("share_to_moments", "invited_friends"):
        refused = client.post(
            "/api/v1/redpackets/console/packets",
            json.dumps(api_packet(community, audience=audience)),
            content_type="application/json",
        )
        assert refused.status_code == 422
    assert RedPacket.objects.count() == 1


def test_another_shops_packets_are_not_found_and_staff_without_the_permission_are_refused(
    shop, other_shop, owner, community, commit
):
    packet = fund(shop, owner, commit, community)
    stranger = login(StaffFactory.create(shop=other_shop, role="owner").user)
    assert stranger.get(f"/api/v1/redpackets/console/packets/{packet.pk}").status_code == 404
    operator = login(StaffFactory.create(shop=shop, role="operator").user)
    assert operator.get("/api/v1/redpackets/console/packets").status_code == 403
    assert operator.get(reverse("redpackets:console_packets")).status_code in (302, 403)


def test_after_expiry_the_page_says_the_remainder_went_back(shop, owner, community, commit):
    from shequn.redpackets import actions

    packet = fund(shop, owner, commit, community, expires_at=timezone.now() + timedelta(minutes=5))
    member = login(member_of(community, "王小明"))
    with commit():
        actions.return_expired(now=timezone.now() + timedelta(minutes=10))
    shown = member.get(reverse("redpackets:packet", args=[packet.pk])).content.decode()
    assert 'data-testid="ended"' in shown
    assert "未领取的金额已退回" in shown
    assert 'data-testid="grab"' not in shown
