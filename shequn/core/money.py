"""Money is integer fen. Every split goes through here so parts always sum to the whole."""

from collections.abc import Sequence


def format_fen(fen: int) -> str:
    """¥29.90 for 2990; negative amounts keep their sign in front: -¥1.00."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(int(fen)), 100)
    return f"{sign}¥{yuan:,}.{cents:02d}"


def split_by_weights(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` fen in proportion to non-negative integer ``weights``.

    Largest-remainder method: each part gets the floor of its exact share, then the
    fen left over go one each to the parts with the largest remainders (earlier parts
    win ties). The parts always sum to ``total``.
    """
    if total < 0:
        return [-part for part in split_by_weights(-total, weights)]
    if not weights:
        if total:
            raise ValueError("cannot split a non-zero amount into no parts")
        return []
    if any(w < 0 for w in weights):
        raise ValueError("weights must be non-negative")
    weight_sum = sum(weights)
    if weight_sum == 0:
        # Nothing to weigh by: share equally.
        return split_by_weights(total, [1] * len(weights))
    floors = [total * w // weight_sum for w in weights]
    remainders = [total * w % weight_sum for w in weights]
    left = total - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:left]:
        floors[i] += 1
    return floors


def percent_of(amount_fen: int, basis_points: int) -> int:
    """``amount_fen`` × ``basis_points`` / 10000, rounded half up, in fen."""
    return (amount_fen * basis_points + 5000) // 10000
