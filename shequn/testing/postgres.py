"""pytest plugin: tests marked ``postgres`` prove behaviour that only a real engine shows.

They run in the PostgreSQL pass of ``make test`` (``scripts/with-postgres pytest -m postgres``),
which starts a throwaway cluster and sets DATABASE_URL. Run anywhere else, such a test FAILS
instead of quietly passing on SQLite, where ``select_for_update`` is a no-op and races look fine.
"""

import pytest
from django.db import connection


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
