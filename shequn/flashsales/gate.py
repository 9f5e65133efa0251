"""The gate this app's pools live in.

Until ``shequn.gate.engine.get_gate()`` exists (Redis when ``REDIS_URL`` is set, built in
parallel), this returns one process-wide ``LocalGate``; once it lands, ``sale_gate`` calls
``get_gate()`` and nothing else in the app changes. Tests swap it with ``use_gate``.
"""

from shequn.gate.base import Gate
from shequn.gate.local import LocalGate

_gate: Gate = LocalGate()


def sale_gate() -> Gate:
    # TODO(issue 13, gate engine): return shequn.gate.engine.get_gate()
    return _gate


def use_gate(gate: Gate) -> Gate:
    """Replace the process-wide gate (tests); returns the previous one."""
    global _gate
    previous, _gate = _gate, gate
    return previous
