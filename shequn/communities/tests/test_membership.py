"""Joining rules and membership lifecycle without money: settings, recruitment windows, join
requests, invitation-only communities, capacity, expiry, reminders, discover and isolation."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from shequn.catalog.kinds import ProductKind
from shequn.catalog.models import Sku
from shequn.communities import actions, selectors
from shequn.communities.enums import JoinPolicy, JoinRequestStatus, MemberStatus
from shequn.communities.errors import RecruitmentClosed
from shequn.communities.models import CommunityMembership, JoinRequest, MembershipTerm, RecruitmentWindow
from shequn.core.errors import DomainError
from shequn.core.models import AuditLog
from shequn.notifications.models import Notification
from shequn.testing.factories import CommunityFactory, MembershipFactory, UserFactory
from shequn.testing.money import beside_input, keeps_typed_value, yuan_refusals
from shequn.testing.two_shops import login

pytestmark = pytest.mark.django_db

SHANGHAI = timedelta(hours=8)


def at(text: str) -> datetime:
    """A Shanghai wall-clock time as an aware UTC datetime: at("2027-01-01 10:00")."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC) - SHANGHAI


def make_paid(community, operator, **overrides):
    settings: dict = {
        "join_policy": JoinPolicy.OPEN,
        "fee_fen": 9900,
        "validity_days": 365,
        "refund_days": 3,
        "renewal_reminder_days": 7,
    }
    settings.update(overrides)
    return actions.do_update_membership_settings(community.shop, community, actor=operator, ip="10.0.0.9", **settings)


def join_url(community, **query):
    url = reverse("communities:join", args=[community.invite_code])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


# --- settings ------------------------------------------------------------------------


def test_paid_settings_create_the_fee_product_and_are_audited(community, operator):
    make_paid(community, operator, renewal_fee_fen=6900, capacity=50)
    community.refresh_from_db()
    product = community.fee_product
    assert (product.kind, product.title, product.on_shelf) == (ProductKind.MEMBERSHIP, "张江三文鱼群 会员", True)
    skus = {sku.spec: (sku.price_fen, sku.stock, sku.is_active) for sku in Sku.objects.filter(product=product)}
    assert skus == {"入会": (9900, 1_000_000, True), "续费": (6900, 1_000_000, True)}
    log = AuditLog.objects.get(action="community.membership_settings")
    assert (log.shop_id, log.ip, log.detail["fee_fen"], log.detail["previous"]["fee_fen"]) == (
        community.shop_id,
        "10.0.0.9",
        9900,
        0,
    )
    # Back to free: the product leaves the shelf, its SKUs are switched off (kept for old orders).
    actions.do_update_membership_settings(
        community.shop, community, join_policy=JoinPolicy.OPEN, fee_fen=0, actor=operator
    )
    product.refresh_from_db()
    assert product.on_shelf is False
    assert Sku.objects.filter(product=product, is_active=True).count() == 0
    assert selectors.fee_skus(community) == {}


def test_settings_form_shows_each_problem(community, console_client):
    url = reverse("communities:console_membership", args=[community.pk])
    response = console_client.post(
        url,
        {
            "join_policy": "open",
            "fee": "99",
            "renewal_fee": "",
            "validity_days": "",
            "capacity": "0",
            "refund_days": "3",
            "renewal_reminder_days": "7",
        },
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "付费社群需要填写会员有效期（天）" in html
    assert "人数上限为 1 到 1000000（不限请留空）" in html
    response = console_client.post(url, {"join_policy": "open", "fee": "9.999", "renewal_reminder_days": "7"})
    assert response.status_code == 422
    assert "金额最多两位小数" in response.content.decode()
    response = console_client.post(
        url, {"join_policy": "open", "fee": "0", "validity_days": "30", "renewal_reminder_days": "7"}
    )
    assert "免费社群不设有效期，请留空" in response.content.decode()
    community.refresh_from_db()
    assert (community.fee_fen, community.validity_days, community.fee_product) == (0, None, None)
    saved = console_client.post(
        url,
        {
            "join_policy": "approval",
            "fee": "99.00",
            "validity_days": "365",
            "refund_days": "3",
            "renewal_reminder_days": "7",
        },
    )
    assert saved.status_code == 302
    community.refresh_from_db()
    assert (community.join_policy, community.fee_fen, community.validity_days) == ("approval", 9900, 365)
    listing = console_client.get(reverse("communities:console_communities")).content.decode()
    assert 'data-testid="community-fee">¥99.00 / 365 天' in listing
    assert "审核加入" in listing


@pytest.mark.parametrize("field", ["fee", "renewal_fee"])
@pytest.mark.parametrize(("typed", "message"), yuan_refusals())
def test_a_fee_that_cannot_be_read_is_an_error_beside_the_field(community, console_client, field, typed, message):
    url = reverse("communities:console_membership", args=[community.pk])
    form = {"join_policy": "approval", "fee": "99", "validity_days": "365", "renewal_reminder_days": "7"}
    response = console_client.post(url, {**form, field: typed})
    assert response.status_code == 422
    html = response.content.decode()
    assert message in beside_input(html, field)
    assert keeps_typed_value(html, field, typed)
    assert keeps_typed_value(html, "validity_days", "365")
    community.refresh_from_db()
    assert community.fee_fen == 0


def test_fees_in_yuan_are_saved_in_fen_and_shown_back(community, console_client):
    url = reverse("communities:console_membership", args=[community.pk])
    form = {"join_policy": "approval", "fee": "35.90", "renewal_fee": "¥29.9", "validity_days": "365"}
    assert console_client.post(url, {**form, "renewal_reminder_days": "7"}).status_code == 302
    community.refresh_from_db()
    assert (community.fee_fen, community.renewal_fee_fen) == (3590, 2990)
    html = console_client.get(url).content.decode()
    assert keeps_typed_value(html, "fee", "35.90")
    assert keeps_typed_value(html, "renewal_fee", "29.90")


# --- recruitment windows ----------------------------------------------------------------


@time_machine.travel(at("2026-12-01 09:00"), tick=False)
def test_outside_the_window_the_join_page_says_when_it_opens_and_no_payment_is_possible(community, operator, member):
    make_paid(community, operator)
    actions.do_add_window(
        community.shop, community, at("2027-01-01 10:00"), at("2027-01-31 22:00"), "年度招募", actor=operator
    )
    html = login(member).get(join_url(community)).content.decode()
    assert 'data-testid="fee">¥99.00<' in html
    assert 'data-testid="window-text">下一次招募将于 2027年1月1日 10:00 开放<' in html
    assert 'data-testid="pay-button"' not in html
    assert "orders/checkout" not in html
    assert "/checkout/" not in html
    # Posting the pay form anyway is refused, and so is the checkout itself (the kind rules).
    refused = login(member).post(join_url(community), {"action": "pay"})
    assert refused.status_code == 409
    assert "现在不在招募时间，下一次招募将于 2027年1月1日 10:00 开放" in refused.content.decode()
    join_sku = selectors.fee_skus(community)["入会"]
    with pytest.raises(RecruitmentClosed) as closed:
        actions.check_fee_purchase(member, join_sku, 1)
    assert closed.value.code == "recruitment_closed"
    assert not CommunityMembership.objects.filter(user=member).exists()

    with time_machine.travel(at("2027-01-01 10:00"), tick=False):
        html = login(member).get(join_url(community)).content.decode()
        assert 'data-testid="window-text">招募中，2027年1月31日 22:00 截止<' in html
        assert 'data-testid="pay-button">支付 ¥99.00 加入<' in html
        response = login(member).post(join_url(community), {"action": "pay"})
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('orders:checkout')}?sku={join_sku.pk}&quantity=1"
        actions.check_fee_purchase(member, join_sku, 1)  # allowed inside the window

    with time_machine.travel(at("2027-02-01 00:00"), tick=False):
        html = login(member).get(join_url(community)).content.decode()
        assert 'data-testid="window-text">招募已结束<' in html
        assert 'data-testid="pay-button"' not in html


@time_machine.travel(at("2026-12-01 09:00"), tick=False)
def test_windows_also_close_free_joining_but_not_renewals(community, operator, member):
    actions.do_add_window(community.shop, community, at("2027-01-01 10:00"), at("2027-01-02 10:00"), actor=operator)
    with pytest.raises(RecruitmentClosed):
        actions.do_join(community, member)
    html = login(member).get(join_url(community)).content.decode()
    assert 'data-testid="join-button"' not in html
    assert "下一次招募将于 2027年1月1日 10:00 开放" in html
    # A former member of a paid community may renew while recruitment is closed.
    make_paid(community, operator)
    former = MembershipFactory.create(
        community=community, status=MemberStatus.FORMER, expires_at=at("2026-11-01 00:00")
    ).user
    renewal_sku = selectors.fee_skus(community)["续费"]
    actions.check_fee_purchase(former, renewal_sku, 1)
    html = login(former).get(join_url(community)).content.decode()
    assert f'href="{reverse("orders:checkout")}?sku={renewal_sku.pk}&amp;quantity=1" data-testid="renew-button"' in html
    assert "会员已到期，续费后恢复" in html


def test_window_validation_and_removal_are_audited(community, operator, console_client):
    with pytest.raises(DomainError) as backwards:
        actions.do_add_window(community.shop, community, at("2030-01-02 00:00"), at("2030-01-01 00:00"), actor=operator)
    assert backwards.value.message == "招募结束时间必须晚于开始时间"
    window = actions.do_add_window(
        community.shop, community, at("2030-01-01 00:00"), at("2030-02-01 00:00"), actor=operator
    )
    with pytest.raises(DomainError) as overlap:
        actions.do_add_window(community.shop, community, at("2030-01-15 00:00"), at("2030-03-01 00:00"), actor=operator)
    assert overlap.value.code == "window_overlaps"
    response = console_client.post(
        reverse("communities:console_window_add", args=[community.pk]),
        {"opens_at": "2031-01-01T10:00", "closes_at": "2031-01-31T22:00", "note": "2031 招募"},
    )
    assert response.status_code == 302
    assert RecruitmentWindow.objects.filter(community=community).count() == 2
    added = RecruitmentWindow.objects.get(note="2031 招募")
    assert added.opens_at == at("2031-01-01 10:00")
    console_client.post(reverse("communities:console_window_delete", args=[window.pk]))
    assert list(RecruitmentWindow.objects.filter(community=community)) == [added]
    assert list(
        AuditLog.objects.filter(shop=community.shop, action__startswith="community.window")
        .values_list("action", flat=True)
        .order_by("id")
    ) == ["community.window_add", "community.window_add", "community.window_remove"]


# --- join requests (approval) -------------------------------------------------------------


def test_approval_free_community_apply_approve_join_with_attribution(community, operator, member, console_client):
    actions.do_update_membership_settings(
        community.shop, community, join_policy=JoinPolicy.APPROVAL, fee_fen=0, actor=operator
    )
    inviter = MembershipFactory.create(community=community).user
    page = login(member).get(join_url(community, **{"from": inviter.pk})).content.decode()
    assert 'data-testid="apply-button"' in page
    assert 'data-testid="join-button"' not in page
    with pytest.raises(DomainError) as direct:
        actions.do_join(community, member, inviter_id=inviter.pk)
    assert direct.value.code == "approval_required"
    response = login(member).post(
        join_url(community, **{"from": inviter.pk}),
        {"action": "apply", "message": "我住张江，想一起团购", "from": str(inviter.pk)},
    )
    assert response.status_code == 302
    request = JoinRequest.objects.get(community=community, user=member)
    assert (request.status, request.inviter, request.message) == (
        JoinRequestStatus.PENDING,
        inviter,
        "我住张江，想一起团购",
    )
    assert "你的入群申请正在审核中" in login(member).get(join_url(community)).content.decode()
    queue = console_client.get(reverse("communities:console_join_requests", args=[community.pk])).content.decode()
    assert queue.count('data-testid="join-request-row"') == 1
    assert "我住张江，想一起团购" in queue
    console_client.post(reverse("communities:console_join_request_decide", args=[request.pk, "approve"]))
    request.refresh_from_db()
    assert (request.status, request.decided_by) == (JoinRequestStatus.JOINED, operator)
    membership = CommunityMembership.objects.get(community=community, user=member)
    assert (membership.status, membership.invited_by, membership.expires_at) == (MemberStatus.ACTIVE, inviter, None)
    assert selectors.is_community_member(member, community)
    note = Notification.objects.get(user=member, kind="community.join_request")
    assert note.title == "你已加入「张江三文鱼群」"
    log = AuditLog.objects.get(action="join_request.approve")
    assert (log.shop_id, log.actor_id, log.detail["user"]) == (community.shop_id, operator.pk, member.pk)
    # Deciding twice is refused.
    again = console_client.post(
        reverse("communities:console_join_request_decide", args=[request.pk, "reject"]), follow=True
    )
    assert "该申请已处理" in again.content.decode()


def test_rejected_applicant_is_told_and_may_apply_again(community, operator, member):
    actions.do_update_membership_settings(
        community.shop, community, join_policy=JoinPolicy.APPROVAL, fee_fen=0, actor=operator
    )
    request = actions.do_apply(community, member, "你好")
    actions.do_decide_join_request(community.shop, request, False, actor=operator, ip="10.0.0.3")
    request.refresh_from_db()
    assert request.status == JoinRequestStatus.REJECTED
    assert not CommunityMembership.objects.filter(user=member).exists()
    assert (
        Notification.objects.get(user=member, kind="community.join_request").title == "「张江三文鱼群」入群申请未通过"
    )
    assert AuditLog.objects.filter(action="join_request.reject", ip="10.0.0.3").count() == 1
    assert "你上次的入群申请未通过" in login(member).get(join_url(community)).content.decode()
    again = actions.do_apply(community, member, "补充：我是老客户")
    assert (again.pk, again.status, again.decided_by) == (request.pk, JoinRequestStatus.PENDING, None)


def test_approval_paid_community_lets_the_approved_member_pay(community, operator, member):
    make_paid(community, operator, join_policy=JoinPolicy.APPROVAL)
    join_sku = selectors.fee_skus(community)["入会"]
    with pytest.raises(DomainError) as before:
        actions.check_fee_purchase(member, join_sku, 1)
    assert before.value.code == "approval_required"
    request = actions.do_apply(community, member)
    actions.do_decide_join_request(community.shop, request, True, actor=operator)
    request.refresh_from_db()
    assert request.status == JoinRequestStatus.APPROVED
    assert not selectors.is_community_member(member, community)
    note = Notification.objects.get(user=member, kind="community.join_request")
    assert (note.title, note.body) == ("「张江三文鱼群」入群申请已通过", "支付入会费 ¥99.00 后即可加入。")
    actions.check_fee_purchase(member, join_sku, 1)
    html = login(member).get(join_url(community)).content.decode()
    assert 'data-testid="pay-button">支付 ¥99.00 加入<' in html


# --- invitation only ------------------------------------------------------------------------


def test_invite_only_community_needs_a_members_link_or_a_channel(community, operator, member):
    actions.do_update_membership_settings(
        community.shop, community, join_policy=JoinPolicy.INVITE_ONLY, fee_fen=0, actor=operator
    )
    bare = login(member).get(join_url(community)).content.decode()
    assert "该社群仅限邀请加入" in bare
    assert 'data-testid="join-button"' not in bare
    with pytest.raises(DomainError) as refused:
        actions.do_join(community, member)
    assert refused.value.code == "invite_required"
    stranger = UserFactory.create()
    with pytest.raises(DomainError):
        actions.do_join(community, member, inviter_id=stranger.pk)  # not a member: no invite
    inviter = MembershipFactory.create(community=community).user
    invited = login(member).get(join_url(community, **{"from": inviter.pk})).content.decode()
    assert 'data-testid="join-button"' in invited
    membership, created = actions.do_join(community, member, inviter_id=inviter.pk)
    assert (created, membership.invited_by) == (True, inviter)
    channel = actions.do_create_channel(community, "地铁海报", code="metro", actor=operator)
    other = UserFactory.create()
    joined, _ = actions.do_join(community, other, channel_code="metro")
    assert joined.channel == channel


def test_invite_recorded_before_payment_is_carried_by_the_paid_invite_only_community(community, operator, member):
    make_paid(community, operator, join_policy=JoinPolicy.INVITE_ONLY)
    inviter = MembershipFactory.create(community=community).user
    join_sku = selectors.fee_skus(community)["入会"]
    with pytest.raises(DomainError):
        actions.check_fee_purchase(member, join_sku, 1)
    response = login(member).post(join_url(community, **{"from": inviter.pk}), {"action": "pay"})
    assert response.status_code == 302
    request = JoinRequest.objects.get(community=community, user=member)
    assert (request.inviter, request.status) == (inviter, JoinRequestStatus.APPROVED)
    actions.check_fee_purchase(member, join_sku, 1)  # the checkout now accepts the bare SKU


# --- capacity ---------------------------------------------------------------------------------


def test_capacity_counts_current_members_only(community, operator, member):
    actions.do_update_membership_settings(
        community.shop, community, join_policy=JoinPolicy.OPEN, fee_fen=0, capacity=2, actor=operator
    )
    MembershipFactory.create(community=community)
    MembershipFactory.create(community=community, status=MemberStatus.REMOVED)
    MembershipFactory.create(community=community, expires_at=at("2020-01-01 00:00"))  # expired, not swept
    actions.do_join(community, member)
    assert selectors.seats_left(community) == 0
    late = UserFactory.create()
    html = login(late).get(join_url(community)).content.decode()
    assert 'data-testid="seats-left">剩余名额 0<' in html
    assert "社群名额已满" in html
    assert 'data-testid="join-button"' not in html
    with pytest.raises(DomainError) as full:
        actions.do_join(community, late)
    assert (full.value.code, full.value.message) == ("community_full", "社群名额已满（2 人）")


# --- expiry, reminders ---------------------------------------------------------------------


def _paid_member(community, user, *, starts_at, days=365):
    membership = MembershipFactory.create(community=community, user=user, expires_at=starts_at + timedelta(days=days))
    MembershipTerm.objects.create(
        membership=membership,
        order_id=1,
        line_id=MembershipTerm.objects.count() + 1000,
        kind="join",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(days=days),
        amount_fen=9900,
        paid_at=starts_at,
    )
    return membership


def test_access_ends_exactly_at_expiry_then_the_sweeper_marks_former_once(community, operator, member):
    make_paid(community, operator)
    expires = at("2027-12-01 10:00")
    membership = _paid_member(community, member, starts_at=expires - timedelta(days=365))
    board = reverse("board:board_home", args=[community.pk])
    articles = reverse("content:article_list", args=[community.pk])
    with time_machine.travel(expires - timedelta(seconds=1), tick=False):
        assert selectors.is_community_member(member, community)
        assert selectors.is_shop_member(member, community.shop)
        assert login(member).get(board).status_code == 200
        assert login(member).get(articles).status_code == 200
    with time_machine.travel(expires, tick=False):
        # No sweeper has run: the row is still "active", yet access has ended.
        membership.refresh_from_db()
        assert membership.status == MemberStatus.ACTIVE
        assert not selectors.is_community_member(member, community)
        assert not selectors.is_shop_member(member, community.shop)
        assert login(member).get(board).status_code == 404
        assert login(member).get(articles).status_code == 404
        home = login(member).get(reverse("communities:community_home", args=[community.pk]))
        assert home.status_code == 403
        assert "会员已到期，续费后恢复" in home.content.decode()
        assert 'data-testid="renew-button"' in home.content.decode()
        assert actions.expire_memberships() == 1
        assert actions.expire_memberships() == 0
    membership.refresh_from_db()
    assert membership.status == MemberStatus.FORMER
    notes = Notification.objects.filter(user=member, kind="community.membership_expired")
    assert [n.title for n in notes] == ["「张江三文鱼群」会员已到期，续费后恢复"]
    mine = login(member).get(reverse("communities:my_communities")).content.decode()
    assert "会员已于 2027年12月1日 10:00 到期，续费后恢复" in mine
    assert 'data-testid="renew-button">续费 ¥99.00<' in mine


def test_renewal_reminder_once_per_term_within_the_reminder_days(community, operator, member):
    make_paid(community, operator, renewal_reminder_days=7)
    expires = at("2027-12-01 10:00")
    _paid_member(community, member, starts_at=expires - timedelta(days=365))
    with time_machine.travel(expires - timedelta(days=8), tick=False):
        assert actions.send_renewal_reminders() == 0
    with time_machine.travel(expires - timedelta(days=7), tick=False):
        assert actions.send_renewal_reminders() == 1
        assert actions.send_renewal_reminders() == 0
        mine = login(member).get(reverse("communities:my_communities")).content.decode()
        assert "有效期至 2027年12月1日 10:00 · 即将到期" in mine
        assert 'data-testid="renew-button"' in mine
    with time_machine.travel(expires - timedelta(days=1), tick=False):
        assert actions.send_renewal_reminders() == 0
    notes = list(Notification.objects.filter(user=member, kind="community.renewal_reminder"))
    assert [(n.title, n.body) for n in notes] == [
        (
            "「张江三文鱼群」会员将于 2027年12月1日 10:00 到期",
            "续费 ¥99.00 可再享 365 天，到期后将无法查看社群内容。",
        )
    ]


def test_console_member_filter_by_expiry(community, operator, console_client):
    make_paid(community, operator)
    now = datetime.now(UTC)
    soon = MembershipFactory.create(community=community, expires_at=now + timedelta(days=3)).user
    MembershipFactory.create(community=community, expires_at=now + timedelta(days=30))
    lapsed = MembershipFactory.create(community=community, expires_at=now - timedelta(days=1)).user
    gone = MembershipFactory.create(
        community=community, status=MemberStatus.FORMER, expires_at=now - timedelta(days=10)
    ).user
    MembershipFactory.create(community=community)  # never expires
    expiring = selectors.community_members(community, expiry="expiring", within_days=7)
    assert [m.user_id for m in expiring] == [soon.pk]
    assert selectors.community_members(community, expiry="expiring", within_days=31).count() == 2
    assert {m.user_id for m in selectors.community_members(community, expiry="expired")} == {lapsed.pk, gone.pk}
    url = reverse("communities:console_members", args=[community.pk])
    html = console_client.get(url + "?expiry=expiring&days=7").content.decode()
    assert html.count('data-testid="member-row"') == 1
    assert f'data-user-id="{soon.pk}"' in html
    html = console_client.get(url + "?expiry=expired").content.decode()
    assert html.count('data-testid="member-row"') == 2


# --- discover -------------------------------------------------------------------------------------


@time_machine.travel(at("2026-12-01 09:00"), tick=False)
def test_discover_lists_the_shops_communities_with_fee_validity_and_window(shop, other_shop, operator):
    paid = CommunityFactory.create(shop=shop, name="年度会员群")
    make_paid(paid, operator)
    actions.do_add_window(shop, paid, at("2027-01-01 10:00"), at("2027-01-31 22:00"), actor=operator)
    CommunityFactory.create(shop=shop, name="免费福利群")
    secret = CommunityFactory.create(shop=shop, name="核心团长群")
    actions.do_update_membership_settings(shop, secret, join_policy=JoinPolicy.INVITE_ONLY, fee_fen=0, actor=operator)
    CommunityFactory.create(shop=shop, name="已停用群", is_active=False)
    CommunityFactory.create(shop=other_shop, name="别家的群")
    html = Client().get(reverse("communities:discover", args=[shop.slug])).content.decode()
    assert html.count('data-testid="discover-item"') == 2
    assert "年度会员群" in html
    assert "免费福利群" in html
    assert "核心团长群" not in html
    assert "别家的群" not in html
    assert "已停用群" not in html
    assert 'data-testid="fee">入会费 ¥99.00 · 有效期 365 天<' in html
    assert 'data-testid="fee">免费加入<' in html
    assert 'data-testid="window-text">下一次招募将于 2027年1月1日 10:00 开放<' in html
    assert Client().get(reverse("communities:discover", args=["nope"])).status_code == 404


# --- isolation ------------------------------------------------------------------------------------


def test_staff_of_another_shop_see_nothing(community, operator, other_console_client, member):
    make_paid(community, operator, join_policy=JoinPolicy.APPROVAL)
    request = actions.do_apply(community, UserFactory.create())
    window = actions.do_add_window(
        community.shop, community, at("2030-01-01 00:00"), at("2030-02-01 00:00"), actor=operator
    )
    client = other_console_client
    assert client.get(reverse("communities:console_membership", args=[community.pk])).status_code == 404
    assert client.post(reverse("communities:console_membership", args=[community.pk]), {"fee": "1"}).status_code == 404
    assert client.get(reverse("communities:console_join_requests", args=[community.pk])).status_code == 404
    assert client.post(reverse("communities:console_window_add", args=[community.pk])).status_code == 404
    assert client.post(reverse("communities:console_window_delete", args=[window.pk])).status_code == 404
    decide = reverse("communities:console_join_request_decide", args=[request.pk, "approve"])
    assert client.post(decide).status_code == 404
    request.refresh_from_db()
    assert request.status == JoinRequestStatus.PENDING
    assert RecruitmentWindow.objects.filter(pk=window.pk).exists()
    community.refresh_from_db()
    assert community.fee_fen == 9900


def test_non_members_get_404_on_members_only_content(community, member):
    MembershipFactory.create(community=community, status=MemberStatus.FORMER)
    for url in (
        reverse("board:board_home", args=[community.pk]),
        reverse("content:article_list", args=[community.pk]),
    ):
        assert login(member).get(url).status_code == 404, url
    # The community page itself is the door: it shows a non-member no invite link at all.
    door = login(member).get(reverse("communities:community_home", args=[community.pk]))
    assert door.status_code == 403
    assert community.invite_code not in door.content.decode()
    assert 'data-testid="members-only"' in door.content.decode()
