"""Group commit: the writes of many concurrent requests of one process done in one transaction.

A request thread hands its item to ``GroupCommit.submit`` and waits. The first thread to arrive
while no batch runs becomes the leader: it takes everything queued (its own item first), runs the
batch function once on its own database connection, hands each waiting thread its outcome, then
passes the lead to the first thread that queued meanwhile (or gives it up when none did). No
thread of its own, no timer, no waiting for a batch to fill: alone, a request is a batch of one
and costs what it cost before; under load the batches grow with the requests that arrived while
the last one was written, and the statements of a batch do not grow with its size (PostgreSQL's
own WAL group commit, one level up). The batch function returns one outcome per item, in order:
a value, or the exception that item alone raises. When the batch fails as a whole (a database
error), every item is run again alone, in its own thread, so one bad item fails only itself.

Callers must not be inside a transaction (``transaction.get_connection().in_atomic_block``): the
leader's transaction commits the others' rows, which an outer transaction of theirs would not
cover.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import cast


class _Slot[T, R]:
    __slots__ = ("failed", "item", "leads", "outcome", "wake")

    def __init__(self, item: T) -> None:
        self.item = item
        self.wake = threading.Event()
        self.leads = False
        self.outcome: R | BaseException | None = None
        self.failed = True  # until the batch gives an outcome: then run this item alone


class GroupCommit[T, R]:
    def __init__(self, run: Callable[[Sequence[T]], Sequence[R | BaseException]], *, max_batch: int = 200) -> None:
        self._run = run
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: list[_Slot[T, R]] = []
        self._leading = False

    def submit(self, item: T) -> R:
        """``item``'s outcome from the batch it was written in; raises the exception it raised."""
        slot: _Slot[T, R] = _Slot(item)
        with self._lock:
            self._queue.append(slot)
            slot.leads = not self._leading
            self._leading = True
        if not slot.leads:
            slot.wake.wait()
        if slot.leads:  # first in the queue: lead one batch, then pass the lead on
            try:
                self._lead()
            finally:
                self._pass_lead()
        (outcome,) = self._run([item]) if slot.failed else (slot.outcome,)
        if isinstance(outcome, BaseException):
            raise outcome
        return cast(R, outcome)

    def _lead(self) -> None:
        with self._lock:
            batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
        try:
            try:
                outcomes = self._run([slot.item for slot in batch])
            except Exception:
                return  # ``failed`` stays set: each item runs again alone, in its own thread
            for slot, outcome in zip(batch, outcomes, strict=True):
                slot.outcome, slot.failed = outcome, False
        finally:
            for slot in batch[1:]:  # the leader's own slot is first
                slot.wake.set()

    def _pass_lead(self) -> None:
        with self._lock:
            if not self._queue:
                self._leading = False
                return
            following = self._queue[0]
        following.leads = True
        following.wake.set()
