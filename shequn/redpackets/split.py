"""Cutting a red packet's pool into parts, once, when it is funded (docs/adr/0018-red-packets.md).

The fair rule (拼手气): the parts are drawn in grab order; each part is between 1 fen and twice
the mean of what is left (``2 × left_fen // left_count``), and never so large that a later part
would get less than 1 fen; the last part takes the rest. The parts always sum to the pool and
every part is at least 1 fen. An equal split is a largest-remainder split (``core.money``).
"""

import random
import secrets

from shequn.core.money import split_by_weights

_system = secrets.SystemRandom()  # unpredictable: nobody can foresee which grab is the big one


def random_parts(total_fen: int, count: int, rng: random.Random | None = None) -> list[int]:
    check_pool(total_fen, count)
    draw = rng or _system
    parts: list[int] = []
    left_fen = total_fen
    for left_count in range(count, 1, -1):
        most = min(2 * left_fen // left_count, left_fen - (left_count - 1))
        part = draw.randint(1, most)
        parts.append(part)
        left_fen -= part
    parts.append(left_fen)
    return parts


def equal_parts(total_fen: int, count: int) -> list[int]:
    check_pool(total_fen, count)
    return split_by_weights(total_fen, [1] * count)


def check_pool(total_fen: int, count: int) -> None:
    if count < 1 or total_fen < count:
        raise ValueError(f"{total_fen} fen cannot make {count} parts of at least 1 fen")
