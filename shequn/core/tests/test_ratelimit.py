import json
import os
import sqlite3
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings as django_settings
from django.db import connection, connections
from django.utils import timezone

from shequn.core.errors import RateLimited
from shequn.core.models import RateLimitCounter
from shequn.core.ratelimit import count, hit, lock, locked_for, purge_expired, reset
from shequn.testing.postgres import run_at_once

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(params=["database", "cache"])
def store(request, settings):
    # "cache" is the store with REDIS_URL (here on the test's local-memory cache); "database" the one without.
    settings.RATELIMIT_STORE = request.param
    return request.param


def test_the_store_without_redis_is_the_database():
    assert not django_settings.REDIS_URL
    assert django_settings.RATELIMIT_STORE == "database"


def test_hits_over_the_limit_are_refused_within_the_window(store):
    assert [hit("otp:1", limit=3, window_seconds=60) for _ in range(3)] == [1, 2, 3]
    with pytest.raises(RateLimited) as error:
        hit("otp:1", limit=3, window_seconds=60)
    assert error.value.status == 429
    # Another bucket is not affected.
    assert hit("otp:2", limit=3, window_seconds=60) == 1


def test_reset_clears_a_bucket(store):
    for _ in range(3):
        hit("login:x", limit=3, window_seconds=60)
    reset("login:x")
    assert hit("login:x", limit=3, window_seconds=60) == 1


def test_a_new_window_starts_when_the_old_one_is_over(store):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(3):
            hit("w", limit=3, window_seconds=60)
        with pytest.raises(RateLimited):
            hit("w", limit=3, window_seconds=60)
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        assert hit("w", limit=3, window_seconds=60) == 1


def test_locks_expire(store):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert locked_for("pair") == 0
        lock("pair", 120)
        assert locked_for("pair") == 120
    with time_machine.travel(start + timedelta(seconds=100), tick=False):
        assert locked_for("pair") == 20
    with time_machine.travel(start + timedelta(seconds=121), tick=False):
        assert locked_for("pair") == 0


def test_long_bucket_names_fit(store):
    name = "login:" + "u" * 300 + ":10.0.0.1"
    assert count(name, 60) == 1
    assert count(name, 60) == 2


def test_expired_database_counters_are_purged():
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        hit("old", limit=3, window_seconds=60)
        hit("new", limit=3, window_seconds=600)
    with time_machine.travel(start + timedelta(seconds=120), tick=False):
        assert purge_expired() == 1
    assert list(RateLimitCounter.objects.values_list("key", flat=True)) == ["ratelimit:new"]


@pytest.mark.django_db(transaction=True)
def test_two_database_connections_share_one_count():
    # A thread gets its own database connection, as another web worker would.
    assert hit("shared", limit=3, window_seconds=60) == 1
    seen: list[object] = []

    def other_worker() -> None:
        try:
            seen.append(connections["default"] is not connection)
            seen.append(hit("shared", limit=3, window_seconds=60))
            seen.append(hit("shared", limit=3, window_seconds=60))
            hit("shared", limit=3, window_seconds=60)
        except RateLimited as error:
            seen.append(error.code)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_worker)
    thread.start()
    thread.join(timeout=30)
    assert seen == [True, 2, 3, "rate_limited"]
    with pytest.raises(RateLimited):
        hit("shared", limit=3, window_seconds=60)


WORKER = """
import json, os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "shequn.settings"
import django
django.setup()
from django.db import connection
from shequn.core import ratelimit
from shequn.core.errors import RateLimited
from shequn.core.models import RateLimitCounter
if sys.argv[1] == "create":
    with connection.schema_editor() as editor:
        editor.create_model(RateLimitCounter)
    print("[]")
else:
    seen = []
    for _ in range(int(sys.argv[2])):
        try:
            seen.append(ratelimit.hit("otp-send-ip:10.0.0.1", int(sys.argv[3]), 3600))
        except RateLimited:
            seen.append("refused")
    print(json.dumps(seen))
"""


def test_two_web_processes_without_redis_share_one_count(tmp_path):
    """Two OS processes of the default configuration (no REDIS_URL) count into one window."""
    database = tmp_path / "shared.sqlite3"
    environment = {
        key: value for key, value in os.environ.items() if key not in {"REDIS_URL", "RATELIMIT_STORE", "DATABASE_URL"}
    }
    environment.update(DATABASE_URL=f"sqlite:///{database}", SHEQUN_VAR_DIR=str(tmp_path / "var"))

    def start(*arguments: str) -> subprocess.Popen[str]:
        return subprocess.Popen(  # noqa: S603  (our own interpreter and script)
            [sys.executable, "-c", WORKER, *arguments],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def finish(process: subprocess.Popen[str]) -> list[object]:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        return list(json.loads(out.strip().splitlines()[-1]))

    finish(start("create"))
    # Both at once: 2 × 15 hits against a limit of 20.
    workers = [start("hit", "15", "20"), start("hit", "15", "20")]
    first, second = (finish(worker) for worker in workers)
    allowed = [n for n in first + second if n != "refused"]
    assert len(allowed) == 20
    assert (first + second).count("refused") == 10
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count FROM core_ratelimitcounter").fetchall() == [(30,)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_database_counter_loses_no_hit_and_reads_its_own_count_under_concurrency(settings):
    settings.RATELIMIT_STORE = "database"
    racers = 16
    outcomes = run_at_once([lambda: hit("race", limit=racers - 4, window_seconds=60)] * racers)
    # Every hit counted once, each saw its own count: exactly the first 12 pass, 4 are refused.
    assert sorted(o for o in outcomes if o != "rate_limited") == list(range(1, racers - 3))
    assert outcomes.count("rate_limited") == 4
    assert RateLimitCounter.objects.get(key="ratelimit:race").count == racers
