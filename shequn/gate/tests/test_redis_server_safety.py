"""The gate's safety argument ("a lost pool is a missing pool") holds only on a Redis that cannot
come back with an older pool and never evicts gate keys. In production the gate refuses to
configure pools on any other; elsewhere it says so in the log."""

import logging

import pytest
import redis

from shequn.gate.base import Refusal
from shequn.gate.engine import get_gate, reset_gate
from shequn.gate.redis import GateServerUnsafe, RedisGate

from .conftest import spec


@pytest.fixture
def server(redis_server):
    with redis.Redis.from_url(redis_server.url) as client:
        yield redis_server.url, client


@pytest.mark.parametrize(
    ("settings_", "says"),
    [
        ({"maxmemory-policy": "allkeys-lru"}, "maxmemory-policy is allkeys-lru"),
        ({"save": "3600 1"}, "RDB snapshots are on"),
        ({"appendonly": "yes", "appendfsync": "everysec"}, "append-only file is synced everysec"),
    ],
)
def test_a_strict_gate_refuses_a_redis_that_could_bring_back_an_older_pool(server, settings_, says):
    url, client = server
    for name, value in settings_.items():
        client.config_set(name, value)
    gate = RedisGate(url, strict=True)
    with pytest.raises(GateServerUnsafe, match=says):
        gate.configure(spec())
    assert gate.attempt("flash:1:1", 7).refusal == Refusal.NOT_READY  # nothing was configured
    client.config_set("maxmemory-policy", "noeviction")
    client.config_set("save", "")
    client.config_set("appendfsync", "always")  # an always-synced append-only file is safe
    gate.configure(spec())
    assert gate.attempt("flash:1:1", 7).admitted
    gate.close_connections()


def test_a_lenient_gate_logs_the_risk_and_works(server, caplog):
    url, client = server
    client.config_set("save", "60 1")
    gate = RedisGate(url)
    with caplog.at_level(logging.WARNING, logger="shequn.gate.redis"):
        gate.configure(spec())
    assert "RDB snapshots are on" in caplog.text
    assert gate.attempt("flash:1:1", 7).admitted
    gate.close_connections()


def test_production_settings_make_the_process_gate_strict(settings, server):
    url, client = server
    client.config_set("maxmemory-policy", "volatile-lru")
    settings.REDIS_URL, settings.GATE_REDIS_URL, settings.SHEQUN_PRODUCTION = url, "", True
    reset_gate()
    try:
        with pytest.raises(GateServerUnsafe):
            get_gate().configure(spec())
    finally:
        reset_gate()


def test_deploy_check_warns_when_production_has_an_in_process_gate(settings):
    from django.core.checks import run_checks

    from shequn.core.checks import PRODUCTION_TAG

    def ids():
        return {message.id for message in run_checks(tags=[PRODUCTION_TAG], include_deployment_checks=True)}

    settings.REDIS_URL, settings.GATE_REDIS_URL = "", ""
    assert "shequn.gate.W001" in ids()
    settings.GATE_REDIS_URL = "redis://gate.internal:6379/0"
    assert "shequn.gate.W001" not in ids()
