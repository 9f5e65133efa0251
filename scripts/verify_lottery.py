#!/usr/bin/env python3
"""Recompute a shequn lottery's winners from its published data, independently of shequn.

Usage: scripts/verify_lottery.py <URL or file of GET /api/v1/lotteries/<id>/verification>

Standard library only, and it imports nothing from shequn: anyone can read these 60 lines and
run them. The algorithm ("hmac-sha256-rank/v1", docs/adr/0017-verifiable-lottery.md):
1. SHA-256 of the revealed seed's bytes must equal the hash published before the start.
2. Each entry number n gets HMAC-SHA256(key=seed bytes, message=ASCII decimal digits of n), hex.
3. Entries ranked by that hex (ties by number); prize slots listed by prize position, each repeated
   by its quantity; the k-th ranked entry wins the k-th slot.
Exit status 0 when the published winners are exactly the recomputed ones, 1 otherwise.
"""

import hashlib
import hmac
import json
import sys
import urllib.request

ALGORITHM = "hmac-sha256-rank/v1"


def load(source: str) -> dict:
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=30) as response:  # noqa: S310 (the user's URL)
            return json.load(response)
    with open(source, encoding="utf-8") as handle:
        return json.load(handle)


def recompute(data: dict) -> list[tuple[int, int]]:
    seed = bytes.fromhex(data["seed"])

    def ticket(number: int) -> str:
        return hmac.new(seed, str(number).encode("ascii"), hashlib.sha256).hexdigest()

    ranked = sorted((entry["number"] for entry in data["entries"]), key=lambda n: (ticket(n), n))
    slots = [p["position"] for p in sorted(data["prizes"], key=lambda p: p["position"]) for _ in range(p["quantity"])]
    return list(zip(ranked, slots, strict=False))


def verify(data: dict) -> list[str]:
    """The problems found; empty when the draw checks out."""
    if data.get("algorithm") != ALGORITHM:
        return [f"unknown algorithm {data.get('algorithm')!r}"]
    if not data.get("seed"):
        return ["not drawn yet: the seed is not revealed"]
    problems = []
    if hashlib.sha256(bytes.fromhex(data["seed"])).hexdigest() != data["seed_hash"]:
        problems.append("the revealed seed does not match the published hash")
    published = [(w["number"], w["position"]) for w in data["winners"]]
    expected = recompute(data)
    if published != expected:
        problems.append(f"published winners {published} differ from the recomputed {expected}")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    data = load(argv[1])
    problems = verify(data)
    for problem in problems:
        print(f"FAIL: {problem}")
    if problems:
        return 1
    winners = ", ".join(f"#{number} → prize {position}" for number, position in recompute(data))
    print(f"OK: {len(data['entries'])} entries, winners {winners or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
