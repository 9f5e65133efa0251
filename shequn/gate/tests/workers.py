"""Code run in separate processes by the gate's tests (spawned: importable, no Django needed)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from shequn.gate.redis import RedisGate


def burst(url: str, pool_key: str, members: list[int], threads: int, start: Any, results: Any) -> None:
    """Attempt once for each member from ``threads`` threads, all starting when ``start`` (a
    multiprocessing barrier shared with the other processes) lets them; put the answers on
    ``results`` as (member, admitted, refusal, claim_id)."""
    gate = RedisGate(url)
    try:
        start.wait()
        with ThreadPoolExecutor(max_workers=threads) as pool:
            answers = list(pool.map(lambda member: gate.attempt(pool_key, member), members))
        results.put(
            [
                (member, answer.admitted, answer.refusal and str(answer.refusal), answer.claim_id)
                for member, answer in zip(members, answers, strict=True)
            ]
        )
    finally:
        gate.close_connections()
