"""The embedded default runs the web server and the task consumer as two processes, each with its
own in-process gate; only the web process's gate holds the sale's pools. An unpaid order closed by
the task consumer must still give its unit back to the web process's gate, exactly once."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shequn.flashsales import actions, tasks
from shequn.flashsales.enums import ClaimStatus
from shequn.flashsales.errors import AttemptRefused
from shequn.flashsales.models import FlashClaim, pool_key
from shequn.gate.engine import use_gate
from shequn.gate.local import LocalGate
from shequn.orders.actions import close_unpaid_order
from shequn.orders.models import Order

from .conftest import buyer, item_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def task_process():
    """Run a block as the task consumer would: with its own, empty in-process gate."""

    class TaskProcess:
        def __enter__(self):
            self.web_gate = use_gate(LocalGate())

        def __exit__(self, *exc):
            use_gate(self.web_gate)

    return TaskProcess


@pytest.fixture
def no_throttle(monkeypatch):
    monkeypatch.setattr(actions.sold_out_checks, "seconds", 0)


def sold_out_with_one_unpaid_order_closed_by_the_task_process(running, commit, task_process):
    """Three members buy the three units; the task consumer closes the first one's unpaid order."""
    item = item_of(running)
    members = [buyer(f"买家{n}") for n in range(3)]
    for member in members:
        assert actions.attempt(member, item.pk).admitted
    with commit():
        assert actions.materialise_claims().ordered == 3
    order = Order.objects.get(user=members[0])
    assert order.expires_at is not None
    with task_process(), commit(), time_machine.travel(order.expires_at + timedelta(seconds=1)):
        assert close_unpaid_order(order.pk)
        tasks.consume_claims.call_local()  # its minute sweep cannot hand the unit over either
    return item, FlashClaim.objects.get(order=order)


def test_a_release_in_the_task_process_waits_and_the_web_gate_takes_it_once(
    running, gate, commit, task_process, no_throttle
):
    item, claim = sold_out_with_one_unpaid_order_closed_by_the_task_process(running, commit, task_process)
    assert (claim.status, claim.returned_to_gate) == (ClaimStatus.RELEASED, False)
    assert gate.state(pool_key(item.pk)).units_left == 0  # the web gate has not seen it yet
    truth = actions.reconcile(item)
    assert (truth.returning, truth.difference, truth.ok) == (1, 0, True)  # on its way, not lost

    latecomer, another = buyer("后来者"), buyer("又一位")
    assert actions.attempt(latecomer, item.pk).admitted  # sold out → the pending unit came back → admitted
    with pytest.raises(AttemptRefused, match="已抢光"):
        actions.attempt(another, item.pk)  # it came back once, not twice
    claim.refresh_from_db()
    assert claim.returned_to_gate is True
    with commit():
        assert actions.materialise_claims().ordered == 1
    assert Order.objects.filter(user=latecomer).count() == 1
    truth = actions.reconcile(item)
    assert (truth.returning, truth.at_gate, truth.ok) == (0, 0, True)
    assert actions.return_released_units() == 0


def test_the_web_process_minute_sweep_hands_pending_releases_over(running, gate, commit, task_process):
    item, claim = sold_out_with_one_unpaid_order_closed_by_the_task_process(running, commit, task_process)
    tasks.consume_claims.call_local()  # now in the web process, which holds the pool
    claim.refresh_from_db()
    assert claim.returned_to_gate is True
    assert gate.state(pool_key(item.pk)).units_left == 1
    tasks.consume_claims.call_local()
    assert gate.state(pool_key(item.pk)).units_left == 1
    assert actions.reconcile(item).ok


def test_a_rebuild_counts_pending_releases_and_does_not_give_them_back_again(
    running, gate, commit, task_process, no_throttle
):
    item, claim = sold_out_with_one_unpaid_order_closed_by_the_task_process(running, commit, task_process)
    gate.forget(pool_key(item.pk))  # the web process restarted: its gate is empty
    assert actions.attempt(buyer("重启后"), item.pk).admitted  # rebuilt with the released unit
    claim.refresh_from_db()
    assert claim.returned_to_gate is True
    assert actions.return_released_units() == 0
    with pytest.raises(AttemptRefused, match="已抢光"):
        actions.attempt(buyer("再来一位"), item.pk)
    with commit():
        actions.materialise_claims()
    assert actions.reconcile(item).ok


def test_a_sold_out_item_looks_for_pending_releases_at_most_once_a_second(running, gate, commit):
    item = item_of(running)
    for n in range(3):
        actions.attempt(buyer(f"买家{n}"), item.pk)
    crowd = [buyer(f"人群{n}") for n in range(5)]
    actions.sold_out_checks.forget(item.pk)
    with CaptureQueriesContext(connection) as first, pytest.raises(AttemptRefused, match="已抢光"):
        actions.attempt(crowd[0], item.pk)
    assert any("returned_to_gate" in query["sql"] for query in first.captured_queries)
    with CaptureQueriesContext(connection) as rest:
        for member in crowd[1:]:
            with pytest.raises(AttemptRefused, match="已抢光"):
                actions.attempt(member, item.pk)
    assert len(rest.captured_queries) == 0
