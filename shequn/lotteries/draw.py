"""The published algorithms, pure and standard-library only (docs/adr/0017-verifiable-lottery.md).

Timed draw (commit–reveal), ``hmac-sha256-rank/v1``:
1. At publication a 32-byte secret seed is drawn; the lottery page shows SHA-256(seed) at once.
2. At the draw the seed is revealed. Each entry number ``n`` gets the ticket
   HMAC-SHA256(key=seed, message=the decimal digits of n in ASCII), as lowercase hex.
3. Entries are ranked by ticket (ties, which never happen in practice, by number).
4. Prize slots are listed by prize position, each repeated ``quantity`` times; the first ranked
   entry takes the first slot, and so on, until slots or entries run out.

Instant win (大转盘): each spin draws a uniform integer in [0, ODDS_SCALE); prizes cover
consecutive ranges of that interval in position order, each as wide as its published odds; a
draw that lands on a prize with no stock left, or past the last range, wins nothing.

scripts/verify_lottery.py repeats the timed draw independently (it imports nothing from here)
and so does the lottery page's script, with Web Crypto.
"""

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence

ALGORITHM = "hmac-sha256-rank/v1"
SEED_BYTES = 32
ODDS_SCALE = 1_000_000  # odds are parts per million


def new_seed() -> str:
    return secrets.token_hex(SEED_BYTES)


def commitment(seed_hex: str) -> str:
    """What the lottery publishes before the start: SHA-256 of the seed's bytes, hex."""
    return hashlib.sha256(bytes.fromhex(seed_hex)).hexdigest()


def ticket(seed_hex: str, number: int) -> str:
    return hmac.new(bytes.fromhex(seed_hex), str(number).encode("ascii"), hashlib.sha256).hexdigest()


def winners(seed_hex: str, numbers: Iterable[int], prizes: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """(entry number, prize position) for every prize slot that finds an entry; ``prizes`` are
    (position, quantity) pairs."""
    ranked = sorted(numbers, key=lambda number: (ticket(seed_hex, number), number))
    slots = [position for position, quantity in sorted(prizes) for _ in range(quantity)]
    return list(zip(ranked, slots, strict=False))


def spin_draw() -> int:
    return secrets.randbelow(ODDS_SCALE)


def choose_prize(draw: int, odds: Sequence[tuple[int, int, int]]) -> int | None:
    """The prize a spin's ``draw`` wins: ``odds`` are (prize id, odds in ppm, stock left) in
    position order; None for no prize (past the ranges, or the prize hit has no stock left)."""
    upper = 0
    for prize_id, ppm, left in odds:
        upper += ppm
        if draw < upper:
            return prize_id if left > 0 else None
    return None
