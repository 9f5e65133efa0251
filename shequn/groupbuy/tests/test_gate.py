"""接龙 through the admission gate (the in-process engine): the gate answers at once, the consumer
writes claims as sign-ups, idempotent by claim id; units go back to the gate exactly once; a lost
pool is rebuilt from the database without overselling; the live list stays 1..N."""

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.cache import cache

from shequn.gate.engine import use_gate
from shequn.gate.local import LocalGate
from shequn.groupbuy import actions, selectors
from shequn.groupbuy.enums import SignUpStatus
from shequn.groupbuy.models import POOL_OWNER, SignUp, SignUpClaim, pool_key
from shequn.leaders.models import Leader
from shequn.orders.actions import close_unpaid_order, mark_paid
from shequn.orders.models import Order

from .conftest import ItemInput, join

pytestmark = pytest.mark.django_db


def neighbours(world: Any, count: int) -> list[Any]:
    return [join(world.community, f"邻居{n}", world.east) for n in range(count)]


def limited(world: Any, stock: int, cap: int | None = 1) -> tuple[Any, Any]:
    campaign = world.open_campaign(
        items=[ItemInput(sku_id=world.salmon.pk, price_fen=5900, stock_limit=stock, per_person_cap=cap)]
    )
    return campaign, campaign.items.get()


def written(user: Any, ticket: str) -> Any:
    """The ticket's sign-up as the consumer wrote it (None: released)."""
    claim = actions.ticket_status(user, ticket)
    assert claim is not None
    return claim.sign_up


def refusal(call: Any) -> str:
    try:
        call()
    except actions.DomainError as error:
        return error.code
    return "admitted"


def test_more_members_than_stock_get_exactly_the_stock(world, gate):
    campaign, item = limited(world, stock=5)
    members = neighbours(world, 8)
    outcomes = [refusal(lambda m=m: actions.join_queue(m, campaign.pk, {item.pk: 1})) for m in members[:5]]
    assert outcomes == ["admitted"] * 5
    # Answered at the gate: nothing is written until the consumer runs.
    assert not SignUp.objects.exists()
    assert selectors.reconcile(item).queued == 5
    assert actions.materialise_claims() == actions.Materialised(signed_up=5)
    # Sold out. (The first sold-out answer compares the gate with the tables, writing the queue
    # first: here they agree.)
    outcomes = [refusal(lambda m=m: actions.join_queue(m, campaign.pk, {item.pk: 1})) for m in members[5:]]
    assert outcomes == ["campaign_sold_out"] * 3
    assert SignUp.objects.filter(campaign=campaign, status=SignUpStatus.PENDING_PAYMENT).count() == 5
    assert SignUpClaim.objects.filter(sign_up__isnull=False).count() == 5
    books = selectors.reconcile(item)
    assert (books.at_gate, books.sold, books.ok) == (0, 5, True)
    # The same member again is over the cap at the gate.
    with pytest.raises(actions.PerPersonCapExceeded) as again:
        actions.join_queue(members[0], campaign.pk, {item.pk: 1})
    assert again.value.message == "「三文鱼 500g」每人限购 1 件，你已接龙 1 件"


class RedeliveringGate(LocalGate):
    """Hands every batch out once more on the next read, as happens when a consumer wrote its
    claims and died before acknowledging them."""

    def __init__(self) -> None:
        super().__init__()
        self.again: list[Any] = []

    def read_claims(self, owner: str, consumer: str, *, count: int = 100, block_ms: int = 0) -> list[Any]:
        again, self.again = self.again, []
        batch = super().read_claims(owner, consumer, count=count, block_ms=block_ms)
        self.again = list(batch)
        return again + batch


def test_a_claim_delivered_twice_makes_one_sign_up(world):
    gate = RedeliveringGate()
    previous = actions.get_gate()
    from shequn.gate.engine import use_gate

    use_gate(gate)
    try:
        campaign, item = limited(world, stock=10, cap=3)
        members = neighbours(world, 3)
        for member in members:
            actions.join_queue(member, campaign.pk, {item.pk: 2})
        assert actions.materialise_claims() == actions.Materialised(signed_up=3)
        assert actions.materialise_claims() == actions.Materialised(duplicates=3)
        assert SignUp.objects.count() == 3
        assert selectors.reconcile(item).ok
    finally:
        use_gate(previous)


def test_a_request_for_two_items_is_one_sign_up_with_one_order(world, gate):
    campaign = world.open_campaign(
        items=[
            ItemInput(sku_id=world.salmon.pk, price_fen=5900, stock_limit=5),
            ItemInput(sku_id=world.shrimp.pk, price_fen=3900, stock_limit=1),
        ]
    )
    salmon, shrimp = campaign.items.order_by("pk")
    wang, li = world.members["王小明"], world.members["李阿姨"]
    first = actions.join_queue(wang, campaign.pk, {salmon.pk: 2, shrimp.pk: 1}, leader_id=world.leader_west.pk)
    assert (len(first.claim_ids), first.refused) == (2, ())
    # The shrimp is gone: the second request keeps its salmon and says why the shrimp is not in.
    second = actions.join_queue(li, campaign.pk, {salmon.pk: 1, shrimp.pk: 1})
    assert len(second.claim_ids) == 1
    assert [(e.code, e.message) for e in second.refused] == [("campaign_sold_out", "「基围虾 1斤」已接满")]
    actions.materialise_claims()
    entry = written(wang, first.ticket)
    assert (entry.leader_id, entry.units, entry.order.total_fen) == (world.leader_west.pk, 3, 2 * 5900 + 3900)
    assert sorted(entry.lines.values_list("item_id", "units")) == [(salmon.pk, 2), (shrimp.pk, 1)]
    assert written(li, second.ticket).units == 1
    with pytest.raises(actions.TicketNotFound):
        actions.ticket_status(li, first.ticket)


def test_units_go_back_to_the_gate_once_and_sell_again(world, gate, django_capture_on_commit_callbacks):
    campaign, item = limited(world, stock=3)
    members = neighbours(world, 4)
    with django_capture_on_commit_callbacks(execute=True):
        entries = [actions.sign_up(m, campaign.pk, {item.pk: 1}) for m in members[:3]]
        assert refusal(lambda: actions.join_queue(members[3], campaign.pk, {item.pk: 1})) == "campaign_sold_out"
        # The first unpaid order times out, closed twice (the task and the sweeper); the second
        # member cancels theirs; the third pays and then cancels (refunded).
        expires_at = Order.objects.get(pk=entries[0].order_id).expires_at
        assert expires_at is not None
        with time_machine.travel(expires_at + timedelta(seconds=1)):
            assert close_unpaid_order(entries[0].order_id)
            assert not close_unpaid_order(entries[0].order_id)
        actions.cancel_sign_up(members[1], entries[1].pk)
        mark_paid(entries[2].order)
        actions.cancel_sign_up(members[2], entries[2].pk)
    assert [SignUp.objects.get(pk=e.pk).status for e in entries] == ["cancelled", "cancelled", "refunded"]
    books = selectors.reconcile(item)
    assert (books.at_gate, books.sold, books.paid, books.ok) == (3, 0, 0, True)
    with django_capture_on_commit_callbacks(execute=True):
        again = [actions.sign_up(m, campaign.pk, {item.pk: 1}) for m in (members[3], members[0])]
    assert [e.status for e in again] == ["pending_payment", "pending_payment"]
    assert selectors.reconcile(item).at_gate == 1


def test_a_lost_pool_is_rebuilt_from_the_database_without_overselling(world, gate):
    campaign, item = limited(world, stock=5)
    members = neighbours(world, 9)
    for member in members[:2]:
        actions.sign_up(member, campaign.pk, {item.pk: 1})  # written
    in_flight = actions.join_queue(members[3], campaign.pk, {item.pk: 1})
    taken = gate.read_claims(POOL_OWNER, "a-consumer-that-died")  # delivered, never acknowledged
    assert [c.claim_id for c in taken] == [in_flight.ticket]
    actions.join_queue(members[2], campaign.pk, {item.pk: 1})  # admitted, still in the queue
    gate.forget(pool_key(item.pk))  # the gate lost the pool (its stream survives here)
    assert not gate.state(pool_key(item.pk)).ready
    outcomes = [refusal(lambda m=m: actions.join_queue(m, campaign.pk, {item.pk: 1})) for m in members[4:]]
    # The rebuild wrote the queued claim first and counted 3 held, plus the claim the dead
    # consumer holds (still in the gate's stream, ``Gate.unacknowledged``): 4 taken, 1 left.
    assert outcomes.count("admitted") == 1
    assert selectors.reconcile(item).at_gate == 0
    # The dead consumer's claim is written when another consumer takes it over: the earliest
    # claim keeps its place, and nobody is admitted only to be refused by the database.
    actions.materialise_claims(idle_ms=0)
    assert SignUp.objects.filter(campaign=campaign).count() == 5
    assert SignUp.objects.filter(campaign=campaign, user=members[3]).exists()
    assert not SignUpClaim.objects.filter(sign_up__isnull=True).exists()
    assert selectors.reconcile(item).ok


def test_the_live_list_stays_one_to_n_when_a_paid_sign_up_is_cancelled(world, gate):
    campaign, item = limited(world, stock=10)
    members = neighbours(world, 4)
    entries = [actions.sign_up(m, campaign.pk, {item.pk: 1}) for m in members]
    for entry in entries[:3]:
        mark_paid(entry.order)
    assert [e.sequence for e in selectors.live_list(campaign)] == [1, 2, 3]
    actions.cancel_sign_up(members[1], entries[1].pk)
    listed = selectors.live_list(campaign)
    assert [(e.sequence, e.name) for e in listed] == [(1, "邻**"), (2, "邻**")]
    mark_paid(entries[3].order)
    assert [e.sequence for e in selectors.live_list(campaign)] == [1, 2, 3]
    # Each member sees their own number as the list shows it; the stored ones keep payment order.
    numbered = selectors.with_position(SignUp.objects.filter(campaign=campaign))
    positions = {e.pk: e.position for e in numbered}  # type: ignore[attr-defined]
    assert [positions[e.pk] for e in entries if SignUp.objects.get(pk=e.pk).status == "confirmed"] == [1, 2, 3]
    assert [SignUp.objects.get(pk=e.pk).sequence for e in entries] == [1, 2, 3, 4]
    campaign.refresh_from_db()
    assert campaign.last_sequence == 4
    assert SignUp.objects.get(pk=entries[1].pk).status == SignUpStatus.REFUNDED


def test_one_batch_writes_every_request_it_can_and_releases_the_rest(world, gate, django_capture_on_commit_callbacks):
    # The east point takes 2 sign-ups that day: the batch's third request is released with the
    # reason, its unit goes back to the gate, and the two before it are written with their orders.
    Leader.objects.filter(pk=world.leader_east.pk).update(capacity_per_day=2)
    campaign, item = limited(world, stock=10)
    members = neighbours(world, 3)
    tickets = [actions.join_queue(m, campaign.pk, {item.pk: 1}).ticket for m in members]
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.materialise_claims() == actions.Materialised(signed_up=2, released=1)
    entries = [written(m, t) for m, t in zip(members, tickets, strict=True)]
    assert [e is not None for e in entries] == [True, True, False]
    assert [e.order.status for e in entries[:2]] == ["pending_payment", "pending_payment"]
    released = SignUpClaim.objects.get(claim_id=tickets[2])
    assert released.released_code == "pickup_point_full"
    assert "取货名额已满（每天 2 单）" in released.released_reason
    books = selectors.reconcile(item)
    assert (books.at_gate, books.sold, books.ok) == (8, 2, True)


def test_a_unit_released_in_the_task_process_sells_again_in_the_web_process(
    world, gate, django_capture_on_commit_callbacks, monkeypatch
):
    """make run's task consumer closes unpaid orders with its own, empty in-process gate: the unit
    it gives back never reaches the web process's gate, whose sold-out answer then checks the
    tables and rebuilds the pool (at most once a second per item)."""
    monkeypatch.setattr(actions.sold_out_checks, "seconds", 0)
    campaign, item = limited(world, stock=2)
    members = neighbours(world, 4)
    with django_capture_on_commit_callbacks(execute=True):
        entries = [actions.sign_up(m, campaign.pk, {item.pk: 1}) for m in members[:2]]
    expires_at = Order.objects.get(pk=entries[0].order_id).expires_at
    assert expires_at is not None
    web_gate = use_gate(LocalGate())  # the task consumer's process
    try:
        with django_capture_on_commit_callbacks(execute=True), time_machine.travel(expires_at + timedelta(seconds=1)):
            assert close_unpaid_order(entries[0].order_id)
    finally:
        use_gate(web_gate)
    assert gate.state(pool_key(item.pk)).units_left == 0  # the web process's gate never heard of it
    with django_capture_on_commit_callbacks(execute=True):
        again = actions.sign_up(members[2], campaign.pk, {item.pk: 1})
    assert again.status == "pending_payment"
    assert refusal(lambda: actions.join_queue(members[3], campaign.pk, {item.pk: 1})) == "campaign_sold_out"
    assert selectors.reconcile(item).ok


def test_while_a_dedicated_consumer_runs_polls_only_read_and_it_writes_every_claim_in_batches(world, gate):
    campaign, item = limited(world, stock=7)
    members = neighbours(world, 7)
    queued = [actions.join_queue(m, campaign.pk, {item.pk: 1}).ticket for m in members]
    # A dedicated consumer announces itself: a poll then only reads (the claim stays queued) ...
    cache.set(actions.CONSUMER_KEY, "groupbuy-1", actions.CONSUMER_QUIET_SECONDS)
    assert actions.ticket_status(members[0], queued[0]) is None
    assert not SignUp.objects.exists()
    # ... and it writes every claim (read from the gate 3 at a time here).
    assert actions.run_consumer(0.2, count=3, consumer="groupbuy-1") == actions.Materialised(signed_up=7)
    assert [written(m, t).units for m, t in zip(members, queued, strict=True)] == [1] * 7
    assert selectors.reconcile(item).ok
    # Gone quiet: the next poll runs the consumer itself again.
    cache.delete(actions.CONSUMER_KEY)
    campaign.items.filter(pk=item.pk).update(stock_limit=8)
    actions.configure_pools(campaign.pk)
    late = join(world.community, "晚到的邻居", world.east)
    ticket = actions.join_queue(late, campaign.pk, {item.pk: 1}).ticket
    assert written(late, ticket).units == 1
    assert SignUp.objects.count() == 8


def test_a_pool_rebuilt_while_claims_are_being_written_counts_them_and_admits_no_more_than_the_stock(world, gate):
    # A sold-out answer compares the gate with the tables and rebuilds the pool when the tables
    # show room (units given back in another process). Claims a consumer has read but not yet
    # committed look like room too: the rebuild counts the stream's unacknowledged claims, so the
    # gate never admits more than the stock (it admitted 61 of 60 in a PostgreSQL race before).
    campaign, item = limited(world, stock=2)
    members = neighbours(world, 3)
    for member in members[:2]:
        actions.join_queue(member, campaign.pk, {item.pk: 1})
    in_hand = gate.read_claims(POOL_OWNER, "slow-consumer", count=10)  # read, not yet written
    assert len(in_hand) == 2
    assert actions.resync_undersold_pool(item.pk) is True  # the tables show 2 units of room
    assert gate.state(pool_key(item.pk)).units_left == 0
    assert refusal(lambda: actions.join_queue(members[2], campaign.pk, {item.pk: 1})) == "campaign_sold_out"
    with pytest.raises(actions.PerPersonCapExceeded):  # what a member holds in flight counts for the cap
        actions.join_queue(members[0], campaign.pk, {item.pk: 1})
    # The slow consumer's claims are still written (another consumer takes them over when stale).
    assert actions.materialise_claims(idle_ms=0) == actions.Materialised(signed_up=2)
    books = selectors.reconcile(item)
    assert (books.at_gate, books.sold, books.ok) == (0, 2, True)


def test_the_dedicated_consumer_command_writes_the_queue(world, gate):
    from io import StringIO

    from django.core.management import call_command

    campaign, item = limited(world, stock=5)
    for member in neighbours(world, 3):
        actions.join_queue(member, campaign.pk, {item.pk: 1})
    out = StringIO()
    call_command("run_jielong_consumer", "--seconds", "0.2", "--name", "burst-1", stdout=out)
    assert out.getvalue().strip() == "signed up 3, released 0, duplicates 0"
    assert SignUp.objects.filter(campaign=campaign).count() == 3
