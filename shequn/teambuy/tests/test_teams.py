"""Team buys end to end through real orders and the sandbox gateway: a team of 3 completes; a team
that stays at 2/3 expires and both paid members are refunded exactly once; seats are freed when
an unpaid order closes; a payment that lands on a failed team goes back."""

from datetime import timedelta

import pytest
import time_machine

from shequn.core.errors import InvalidTransition
from shequn.notifications.models import Notification
from shequn.orders import actions as order_actions
from shequn.orders.enums import OrderStatus, RefundStatus
from shequn.orders.models import Order, RefundRequest
from shequn.payments import actions as payment_actions
from shequn.payments.models import GatewayRefund
from shequn.payments.sandbox import server
from shequn.teambuy import actions
from shequn.teambuy.enums import MemberStatus, TeamStatus
from shequn.teambuy.errors import AlreadyInTeam, TeamClosed, TeamFull
from shequn.teambuy.models import TeamMember
from shequn.testing.orders import make_staff
from shequn.testing.payments import run_scheduled_tasks

from .conftest import pay

pytestmark = pytest.mark.django_db


def open_team(user, offer, destination, commit):
    with commit():
        member = actions.do_open_team(user, offer.pk, destination)
    return member


def kinds_for(user, kind):
    return Notification.objects.filter(user=user, kind=kind).count()


def test_a_team_of_three_completes_once_the_third_member_pays(sandbox, offer, destination, members, commit, sku):
    opener, second, third, late = members
    staff = make_staff(offer.shop)
    first = open_team(opener, offer, destination, commit)
    team = first.team
    assert (team.status, team.seats_taken, team.team_size) == (TeamStatus.FORMING, 1, 3)
    assert first.order.total_fen == 3990  # the team price, not the shelf price ¥59.90
    assert first.order.lines.get().unit_price_fen == 3990
    assert first.order.expires_at <= team.expires_at
    joined = [actions.do_join_team(user, team.pk, destination) for user in (second, third)]
    team.refresh_from_db()
    assert team.seats_taken == 3
    with pytest.raises(TeamFull) as full:
        actions.do_join_team(late, team.pk, destination)
    assert full.value.message == "该团已满员，可以自己开一个新团"
    assert TeamMember.objects.filter(team=team, user=late).count() == 0
    sku.refresh_from_db()
    assert sku.stock == 47  # three units held, the refused join reserved nothing

    pay(first.order, commit)
    pay(joined[0].order, commit)
    team.refresh_from_db()
    assert (team.status, team.paid_count) == (TeamStatus.FORMING, 2)
    # Not to be fulfilled yet: staff cannot hand over a forming team's order (pickup here).
    orders = [first.order, *(member.order for member in joined)]
    assert {Order.objects.get(pk=o.pk).hold_reason for o in orders} == {actions.TEAM_HOLD}
    with pytest.raises(InvalidTransition) as held:
        order_actions.mark_ready_for_pickup(team.shop, first.order_id, staff)
    assert held.value.message == "拼团中，成团后发货，暂不能发货或备货"
    assert kinds_for(opener, "teambuy.succeeded") == 0
    pay(joined[1].order, commit)
    team.refresh_from_db()
    assert (team.status, team.paid_count) == (TeamStatus.SUCCEEDED, 3)
    assert team.succeeded_at is not None
    for user in (opener, second, third):
        assert kinds_for(user, "teambuy.succeeded") == 1
    assert {Order.objects.get(pk=o.pk).hold_reason for o in orders} == {""}  # released after commit
    ready = order_actions.mark_ready_for_pickup(team.shop, first.order_id, staff)
    assert ready.status == OrderStatus.READY_FOR_PICKUP
    assert list(TeamMember.objects.filter(team=team).values_list("status", flat=True)) == [MemberStatus.PAID] * 3

    # The deadline passing afterwards changes nothing: no refunds for a team that succeeded.
    with time_machine.travel(team.expires_at + timedelta(minutes=1)), commit():
        assert actions.expire_due_teams() == 0
        run_scheduled_tasks()
    team.refresh_from_db()
    assert team.status == TeamStatus.SUCCEEDED
    assert RefundRequest.objects.count() == 0
    assert kinds_for(opener, "teambuy.succeeded") == 1


def test_the_opener_cannot_join_twice_nor_anyone_join_a_closed_team(offer, destination, members, commit):
    opener, second, *_ = members
    team = open_team(opener, offer, destination, commit).team
    with pytest.raises(AlreadyInTeam) as again:
        actions.do_join_team(opener, team.pk, destination)
    assert again.value.message == "你已在这个团里了"
    actions.do_join_team(second, team.pk, destination)
    with pytest.raises(AlreadyInTeam):
        actions.do_join_team(second, team.pk, destination)
    team.refresh_from_db()
    assert team.seats_taken == 2
    with time_machine.travel(team.expires_at + timedelta(seconds=1)), pytest.raises(TeamClosed) as closed:
        actions.do_join_team(members[2], team.pk, destination)
    assert closed.value.message == "该团已结束，可以自己开一个新团"


def test_a_team_at_two_of_three_expires_and_both_are_refunded_exactly_once(
    sandbox, offer, destination, members, commit, sku
):
    sandbox.duplicates = 2  # every gateway notification arrives three times
    opener, second, third, _ = members
    first = open_team(opener, offer, destination, commit)
    team = first.team
    other = actions.do_join_team(second, team.pk, destination)
    pay(first.order, commit)
    pay(other.order, commit)
    # A third member joins but never pays: their order is cancelled at expiry, not refunded.
    unpaid = actions.do_join_team(third, team.pk, destination)
    team.refresh_from_db()
    assert (team.seats_taken, team.paid_count) == (3, 2)

    with time_machine.travel(team.expires_at + timedelta(seconds=5)), commit():
        run_scheduled_tasks()  # the expiry task scheduled when the team opened
    team.refresh_from_db()
    assert (team.status, team.failed_at is not None) == (TeamStatus.FAILED, True)
    for member in (first, other):
        member.refresh_from_db()
        member.order.refresh_from_db()
        assert member.status == MemberStatus.REFUNDED
        assert member.order.refunded_fen == 3990
        # Refunded in full before anything was sent: closed, off the member's 待发货 list.
        assert (member.order.status, member.order.hold_reason) == (OrderStatus.CLOSED, "")
        refund = RefundRequest.objects.get(order=member.order)
        assert (refund.status, refund.amount_fen) == (RefundStatus.REFUNDED, 3990)
        assert GatewayRefund.objects.filter(refund_request=refund).count() == 1
    unpaid.refresh_from_db()
    unpaid.order.refresh_from_db()
    assert (unpaid.status, unpaid.order.status) == (MemberStatus.LEFT, OrderStatus.CANCELLED)
    assert GatewayRefund.objects.count() == 2
    for user in (opener, second):
        assert kinds_for(user, "teambuy.failed") == 1
        assert kinds_for(user, "refund.refunded") == 1
    assert kinds_for(third, "teambuy.failed") == 1
    assert kinds_for(third, "refund.refunded") == 0
    sku.refresh_from_db()
    assert (
        sku.stock == 48
    )  # 50 - 3 held + 1 back from the cancelled order's unit is back; the paid ones stay with orders

    # The sweeper and a second run of the task find nothing left to do.
    with time_machine.travel(team.expires_at + timedelta(minutes=2)), commit():
        assert actions.expire_due_teams() == 0
        assert actions.expire_team(team.pk) is False
        assert actions.settle_failed_team(team.pk) == 0
    assert RefundRequest.objects.count() == 2
    assert GatewayRefund.objects.count() == 2
    assert Notification.objects.filter(kind="refund.refunded").count() == 2


def test_the_sweeper_fails_a_team_whose_task_was_lost(sandbox, offer, destination, members, commit):
    opener = members[0]
    first = open_team(opener, offer, destination, commit)
    pay(first.order, commit)
    from huey.contrib.djhuey import HUEY

    HUEY.storage.flush_schedule()  # the ETA task is gone
    with time_machine.travel(first.team.expires_at + timedelta(minutes=1)), commit():
        assert actions.expire_due_teams() == 1
    first.refresh_from_db()
    first.order.refresh_from_db()
    assert first.status == MemberStatus.REFUNDED
    assert first.order.refunded_fen == 3990
    assert GatewayRefund.objects.count() == 1


def test_an_unpaid_order_closing_frees_its_seat_for_someone_else(offer, destination, members, commit, sku):
    opener, second, third, fourth = members
    team = open_team(opener, offer, destination, commit).team
    leaving = actions.do_join_team(second, team.pk, destination)
    actions.do_join_team(third, team.pk, destination)
    order_actions.cancel_order_by_member(second, leaving.order.number)
    leaving.refresh_from_db()
    team.refresh_from_db()
    assert (leaving.status, team.seats_taken) == (MemberStatus.LEFT, 2)
    actions.do_join_team(fourth, team.pk, destination)
    team.refresh_from_db()
    assert team.seats_taken == 3
    # Having left, the member may come back only when a seat is free again.
    with pytest.raises(TeamFull):
        actions.do_join_team(second, team.pk, destination)


def test_a_payment_landing_after_the_deadline_fails_the_team_and_is_refunded(
    sandbox, offer, destination, members, commit
):
    opener, second, *_ = members
    first = open_team(opener, offer, destination, commit)
    late = actions.do_join_team(second, first.team.pk, destination)
    pay(first.order, commit)
    # The late member opened the cashier in time; the payment lands after the deadline,
    # before any task ran.
    pay_url = payment_actions.start_payment(late.order, second)
    with time_machine.travel(first.team.expires_at + timedelta(seconds=1)), commit():
        server.confirm(pay_url.rstrip("/").rsplit("/", 1)[-1])
    late.order.refresh_from_db()
    late.refresh_from_db()
    first.refresh_from_db()
    first.team.refresh_from_db()
    assert first.team.status == TeamStatus.FAILED
    assert late.order.paid_at is not None
    assert (late.status, late.order.refunded_fen) == (MemberStatus.REFUNDED, 3990)
    assert (first.status, first.order.refunded_fen) == (MemberStatus.REFUNDED, 3990)
    assert GatewayRefund.objects.count() == 2
    assert kinds_for(second, "teambuy.failed") == 1
    assert kinds_for(opener, "teambuy.failed") == 1


def test_a_paid_member_refunded_by_staff_before_success_frees_the_seat(
    sandbox, shop, offer, destination, members, commit
):
    opener, second, third, _ = members
    first = open_team(opener, offer, destination, commit)
    team = first.team
    leaving = actions.do_join_team(second, team.pk, destination)
    pay(first.order, commit)
    pay(leaving.order, commit)
    line = leaving.order.lines.get()
    refund = order_actions.request_refund(second, leaving.order.number, line.pk, amount_fen=3990, reason="不想要了")
    with commit():
        payment_actions.approve_refund(shop, refund, make_staff(shop, "owner"))
    leaving.refresh_from_db()
    team.refresh_from_db()
    assert leaving.status == MemberStatus.REFUNDED
    assert (team.seats_taken, team.paid_count, team.status) == (1, 1, TeamStatus.FORMING)
    # The seat goes to someone else, and the team can still succeed with real members only.
    joined = actions.do_join_team(third, team.pk, destination)
    other = actions.do_join_team(members[3], team.pk, destination)
    pay(joined.order, commit)
    pay(other.order, commit)
    team.refresh_from_db()
    assert (team.status, team.paid_count, team.seats_taken) == (TeamStatus.SUCCEEDED, 3, 3)
    assert kinds_for(second, "teambuy.succeeded") == 0
