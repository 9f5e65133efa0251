"""Group commit: threads' items written in shared batches, each thread getting its own outcome."""

import threading
import time
from collections.abc import Sequence

import pytest

from shequn.core.group_commit import GroupCommit

WAIT_SECONDS = 10  # a bound on the wait for threads to queue, never a measurement


def queued(commit: GroupCommit, count: int) -> None:
    """Wait until ``count`` items wait behind the batch being written."""
    deadline = time.monotonic() + WAIT_SECONDS
    while len(commit._queue) < count:
        assert time.monotonic() < deadline, "the threads did not queue"
        time.sleep(0.001)


def run_threads(commit: GroupCommit, items: Sequence[int]) -> dict[int, object]:
    outcomes: dict[int, object] = {}

    def submit(item: int) -> None:
        try:
            outcomes[item] = commit.submit(item)
        except Exception as error:
            outcomes[item] = error

    threads = [threading.Thread(target=submit, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_SECONDS)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def test_items_queued_while_a_batch_is_written_are_written_together_and_each_gets_its_own_outcome():
    batches: list[list[int]] = []

    def double(items: Sequence[int]) -> list[int]:
        if not batches:  # the first batch is written while the other nine queue
            queued(commit, 9)
        batches.append(list(items))
        return [item * 2 for item in items]

    commit: GroupCommit[int, int] = GroupCommit(double)
    outcomes = run_threads(commit, range(10))

    assert outcomes == {item: item * 2 for item in range(10)}
    assert len(batches) == 2
    assert len(batches[0]) == 1
    assert sorted(batches[0] + batches[1]) == list(range(10))


def test_a_batch_is_at_most_max_batch_items_and_the_rest_follow():
    batches: list[int] = []

    def identity(items: Sequence[int]) -> list[int]:
        if not batches:
            queued(commit, 7)
        batches.append(len(items))
        return list(items)

    commit: GroupCommit[int, int] = GroupCommit(identity, max_batch=3)
    outcomes = run_threads(commit, range(8))

    assert outcomes == {item: item for item in range(8)}
    assert batches == [1, 3, 3, 1]


def test_an_item_refused_raises_in_its_own_thread_only():
    def odd_refused(items: Sequence[int]) -> list[int | BaseException]:
        return [ValueError(f"{item} refused") if item % 2 else item for item in items]

    commit: GroupCommit[int, int] = GroupCommit(odd_refused)
    outcomes = run_threads(commit, range(6))

    assert {item: str(outcome) for item, outcome in outcomes.items() if isinstance(outcome, ValueError)} == {
        1: "1 refused",
        3: "3 refused",
        5: "5 refused",
    }
    assert {item: outcome for item, outcome in outcomes.items() if not isinstance(outcome, ValueError)} == {
        0: 0,
        2: 2,
        4: 4,
    }


def test_a_batch_that_fails_as_a_whole_is_written_item_by_item_so_only_the_bad_item_fails():
    calls: list[list[int]] = []
    bad: list[int] = []  # an item of the second batch (whichever thread led the first)
    lock = threading.Lock()

    def fails_with_the_bad_item(items: Sequence[int]) -> list[int]:
        with lock:
            if not calls:
                queued(commit, 5)
                bad.append(3 if items[0] != 3 else 4)
            calls.append(list(items))
        if bad[0] in items:
            raise RuntimeError("the database refused the batch")
        return [item + 100 for item in items]

    commit: GroupCommit[int, int] = GroupCommit(fails_with_the_bad_item)
    outcomes = run_threads(commit, range(6))

    assert isinstance(outcomes.pop(bad[0]), RuntimeError)
    assert outcomes == {item: item + 100 for item in range(6) if item != bad[0]}
    # The leader's batch of one, the batch of five that failed, then each of those five alone.
    assert len(calls[0]) == 1
    assert sorted(calls[1]) == [item for item in range(6) if item not in calls[0]]
    assert sorted(map(tuple, calls[2:])) == [(item,) for item in sorted(calls[1])]


def test_alone_an_item_is_a_batch_of_one_in_the_callers_thread():
    threads: list[str] = []

    def record(items: Sequence[str]) -> list[str]:
        threads.append(threading.current_thread().name)
        return [item.upper() for item in items]

    commit: GroupCommit[str, str] = GroupCommit(record)
    assert commit.submit("a") == "A"
    assert commit.submit("b") == "B"
    assert threads == [threading.current_thread().name] * 2
    refusing: GroupCommit[str, str] = GroupCommit(lambda items: [ValueError(f"{item} refused") for item in items])
    with pytest.raises(ValueError, match="y refused"):
        refusing.submit("y")
