"""Issue 16 item 2 end to end in Chromium: an operator sends a red packet from the console, two
community members grab it on the packet page (the ticketed grab through the API, then the page
again) and are credited; the last part shows 手气最佳 and the names masked; the console's figures
follow."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from shequn.core.money import format_fen
from shequn.gate.engine import use_gate
from shequn.gate.local import LocalGate
from shequn.redpackets.models import RedPacket, RedPacketGrab
from shequn.testing.browser import DESKTOP
from shequn.testing.factories import CommunityFactory, MembershipFactory, StaffFactory, UserFactory
from shequn.testing.two_shops import shop
from shequn.wallets import ledger
from shequn.wallets.enums import AccountKind

__all__ = ["shop"]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def gate() -> Iterator[LocalGate]:
    fresh = LocalGate()
    previous = use_gate(fresh)
    yield fresh
    use_gate(previous)


def test_a_red_packet_is_sent_grabbed_by_two_members_and_credited(shop, gate, signed_in_page) -> None:
    owner = StaffFactory.create(shop=shop, role="owner").user
    community = CommunityFactory.create(shop=shop, name="三文鱼爱好者群")
    wang, li = UserFactory.create(nickname="王小明"), UserFactory.create(nickname="李雷")
    for member in (wang, li):
        MembershipFactory.create(community=community, user=member)

    console = signed_in_page(owner, **DESKTOP)
    console.goto("/console/redpackets/new/")
    now = timezone.localtime()
    console.get_by_label("标题").fill("周末拼手气红包")
    console.get_by_label("总金额（元）").fill("8.88")
    console.get_by_label("红包个数").fill("2")
    console.get_by_label("社群", exact=True).select_option(label="三文鱼爱好者群")
    console.get_by_label("开始时间").fill((now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"))
    console.get_by_label("结束时间（未领取的退回店铺）").fill((now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    console.get_by_test_id("fund-submit").click()
    expect(console.get_by_test_id("packet-row")).to_contain_text("周末拼手气红包")
    expect(console.get_by_test_id("packet-granted")).to_have_text("¥8.88 / 2")
    packet = RedPacket.objects.get()

    amounts = {}
    for member in (wang, li):
        page = signed_in_page(member)
        page.goto(f"/redpackets/{packet.pk}/")
        page.get_by_test_id("grab").click()
        mine = RedPacketGrab.objects.filter(member=member)
        expect(page.get_by_test_id("my-amount")).to_be_visible()
        amounts[member.pk] = mine.get().amount_fen
        expect(page.get_by_test_id("my-amount")).to_have_text(format_fen(amounts[member.pk]))

    assert sum(amounts.values()) == 888
    for member in (wang, li):
        assert ledger.balance(shop, AccountKind.SPENDABLE, member) == amounts[member.pk]
    expect(page.get_by_test_id("best-luck")).to_contain_text(format_fen(max(amounts.values())))
    expect(page.get_by_test_id("grab-name")).to_contain_text(["王**", "李*"])
    expect(page.get_by_test_id("grabs")).not_to_contain_text("王小明")
    console.reload()
    expect(console.get_by_test_id("packet-grabbed")).to_have_text("¥8.88 / 2")
