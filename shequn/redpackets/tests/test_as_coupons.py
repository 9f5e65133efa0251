"""A pool paid as coupons: each grab issues a 无门槛 coupon worth its part; no money moves in the
ledger for it, the return moves none either, and the console says so."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from shequn.core.models import AuditLog
from shequn.coupons.enums import CouponKind, CouponSource, CouponStatus
from shequn.coupons.models import CouponEvent, MemberCoupon
from shequn.coupons.rules import coupon_face, offer
from shequn.redpackets import actions, selectors
from shequn.redpackets.enums import PacketStatus
from shequn.redpackets.models import RedPacket, RedPacketGrab
from shequn.wallets.models import Entry, LedgerTransaction

from .conftest import fund, login, member_of

pytestmark = pytest.mark.django_db


def grab(user, packet) -> int:
    actions.grab(user, packet.pk)
    actions.materialise_grabs()
    return RedPacketGrab.objects.get(packet=packet, member=user).amount_fen


def test_each_grab_is_a_no_threshold_coupon_worth_its_part_and_no_money_moves(shop, owner, community, commit):
    packet = fund(shop, owner, commit, community, total_fen=1000, count=3, as_coupons=True, coupon_valid_days=7)
    wang, li = member_of(community, "王小明"), member_of(community, "李雷")

    first, second = grab(wang, packet), grab(li, packet)

    coupons = {coupon.user_id: coupon for coupon in MemberCoupon.objects.select_related("template")}
    assert {user_id: coupon.amount_fen for user_id, coupon in coupons.items()} == {wang.pk: first, li.pk: second}
    template = packet.coupon_template
    assert (template.kind, template.claimable, template.is_active) == (CouponKind.NO_THRESHOLD, False, False)
    mine = coupons[wang.pk]
    assert (mine.source, mine.status, mine.template_id) == (CouponSource.RED_PACKET, CouponStatus.CLAIMED, template.pk)
    assert mine.valid_until - mine.claimed_at == timedelta(days=7)
    assert coupon_face(mine) == f"无门槛减¥{first // 100}.{first % 100:02d}"
    assert CouponEvent.objects.filter(coupon__in=coupons.values()).count() == 2
    assert not Entry.objects.exists()
    assert not LedgerTransaction.objects.exists()
    template.refresh_from_db()
    assert template.remaining == 1
    page = login(wang).get(reverse("redpackets:packet", args=[packet.pk])).content.decode()
    assert "已发放为等额无门槛优惠券" in page
    assert "已存入钱包" not in page
    books = selectors.books(packet)
    assert (books.grabbed_fen, books.grab_rows_fen, books.coupons_fen) == (first + second,) * 3
    assert (books.credited_fen, books.holding_fen) == (0, 0)


def test_the_coupon_takes_its_own_amount_off_at_checkout(shop, owner, community, commit):
    from shequn.testing.orders import make_sku

    packet = fund(shop, owner, commit, community, total_fen=900, count=3, split="equal", as_coupons=True)
    wang = member_of(community, "王小明")
    grab(wang, packet)
    coupon = MemberCoupon.objects.select_related("template").get(user=wang)

    class Line:
        sku = make_sku(shop, price_fen=5000)
        unit_price_fen = 5000
        member_price = False
        total_fen = 5000

    quoted = offer(coupon, [Line()], payable_fen=5000, is_audience=True)
    assert (quoted.applies, quoted.discount_fen, quoted.line_discounts) == (True, 300, [300])


def test_at_expiry_nothing_returns_because_nothing_was_paid_in(shop, owner, community, commit):
    packet = fund(shop, owner, commit, community, total_fen=1000, count=3, as_coupons=True)
    got = grab(member_of(community, "王小明"), packet)
    with commit():
        assert actions.return_expired(now=timezone.now() + timedelta(days=2)) == 1
    packet.refresh_from_db()
    assert (packet.status, packet.returned_fen) == (PacketStatus.RETURNED, 1000 - got)
    assert not Entry.objects.exists()
    assert AuditLog.objects.filter(action="redpacket.return", object_id=str(packet.pk)).count() == 1


def test_the_console_funds_a_coupon_pool_and_its_figures_say_no_money_moves(shop, owner, community):
    client = login(owner)
    now = timezone.localtime()
    form = {
        "title": "领券红包",
        "total": "30.00",
        "count": "3",
        "split": "equal",
        "audience": "community",
        "community": str(community.pk),
        "as_coupons": "on",
        "coupon_valid_days": "10",
        "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
        "expires_at": (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
    }
    assert client.post(reverse("redpackets:console_fund"), form).status_code == 302
    template = RedPacket.objects.select_related("coupon_template").get(shop=shop).coupon_template
    assert template is not None
    assert template.valid_days == 10
    assert not Entry.objects.exists()
    shown = client.get(reverse("redpackets:console_packets")).content.decode()
    assert "以优惠券发放，不动用资金" in shown
    assert "无（未领取的券不再发放）" in shown
    listed = client.get("/api/v1/redpackets/console/packets").json()["items"][0]
    assert (listed["as_coupons"], listed["total_fen"], listed["holding_fen"]) == (True, 3000, 0)


def test_the_coupon_console_describes_a_red_packet_template_by_its_grabbed_amounts(shop, owner, community, commit):
    """The template a coupon pool makes has no amount of its own: the coupon console says each
    coupon is worth what its member grabbed (never "无门槛减¥0.00"), adds up what was issued, and
    offers no edit, issue or post card that could hand out coupons worth nothing."""
    packet = fund(shop, owner, commit, community, total_fen=1000, count=3, as_coupons=True)
    first, second = grab(member_of(community, "王小明"), packet), grab(member_of(community, "李雷"), packet)
    template = packet.coupon_template
    client = login(owner)

    listed = client.get(reverse("coupons:console_templates")).content.decode()
    detail = client.get(reverse("coupons:console_template", args=[template.pk])).content.decode()
    api = client.get(f"/api/v1/coupons/console/templates/{template.pk}").json()

    for page in (listed, detail):
        assert "无门槛减¥0.00" not in page
        assert "无门槛，每张面额为抢到的红包金额" in page
    assert "红包发放" in listed
    amounts = first + second
    assert f"已发放面额合计 ¥{amounts // 100}.{amounts % 100:02d}" in detail
    for hidden in ('data-testid="edit-coupon"', 'data-testid="issue-form"', 'data-testid="post-card-form"'):
        assert hidden not in detail
    assert (api["face"], api["issued"]) == ("无门槛，每张面额为抢到的红包金额", 2)
    edit = client.post(
        reverse("coupons:console_edit", args=[template.pk]), {"name": "改成可领", "is_active": "on"}, follow=True
    )
    assert "这是红包以优惠券发放时生成的券，不能编辑" in edit.content.decode()
    body = {"name": "改成可领", "kind": "no_threshold", "amount_fen": 500, "total_quantity": 3, "validity": "days",
            "valid_days": 30, "claimable": True, "is_active": True}  # fmt: skip
    refused = client.put(f"/api/v1/coupons/console/templates/{template.pk}", body, content_type="application/json")
    assert (refused.status_code, refused.json()["message"]) == (409, "这是红包以优惠券发放时生成的券，不能编辑")
    template.refresh_from_db()
    assert (template.name, template.is_active, template.claimable) == (f"红包 {packet.title}", False, False)
