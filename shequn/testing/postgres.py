"""pytest plugin: tests marked ``postgres`` prove behaviour that only a real engine shows.

They run in the PostgreSQL pass of ``make test`` (``scripts/with-postgres pytest -m postgres``),
which starts a throwaway cluster and sets DATABASE_URL. Run anywhere else, such a test FAILS
instead of quietly passing on SQLite, where ``select_for_update`` is a no-op and races look fine.
"""

import contextlib
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection, connections

from shequn.core.errors import DomainError


@pytest.fixture(autouse=True)
def _postgres_marker_needs_postgres(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("postgres") is None:
        return
    if connection.vendor != "postgresql":
        pytest.fail(
            f"marked postgres but the database is {connection.vendor}: run it through "
            "`scripts/with-postgres .venv/bin/pytest -m postgres` (make test does).",
            pytrace=False,
        )


def run_at_once(calls: Sequence[Callable[[], Any]]) -> list[Any]:
    """Run every call in its own thread (own database connection), all released at once.

    Returns the outcomes sorted (by their text): a call's return value, or the code of the
    DomainError it raised. Any other exception fails the test, as it should.
    """
    start = threading.Barrier(len(calls))
    outcomes: list[Any] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def run(call: Callable[[], Any]) -> None:
        try:
            start.wait(timeout=30)
            result = call()
        except DomainError as error:
            result = error.code
        except BaseException as error:  # reported below, in the test's thread
            with lock:
                failures.append(error)
            return
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    workers = [threading.Thread(target=run, args=(call,)) for call in calls]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    if failures:
        raise failures[0]
    return sorted(outcomes, key=str)


def in_pool(calls: Sequence[Callable[[], Any]], workers: int = 32) -> list[Any]:
    """Run the calls on ``workers`` threads (own database connections), the first wave released at
    once; a crowd larger than a thread per call would make this machine's scheduler the test.

    Returns the outcomes in the order of ``calls``: a call's return value, or the code of the
    DomainError it raised. Any other exception fails the test."""
    start = threading.Barrier(min(workers, len(calls)))

    def run(call: Callable[[], Any]) -> Any:
        try:
            with contextlib.suppress(threading.BrokenBarrierError):
                start.wait(timeout=0.5)
            return call()
        except DomainError as error:
            return error.code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, calls))
