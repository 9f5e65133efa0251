"""Goods sold by weight (S1: "35 ¥/斤"): integer arithmetic for prices per 斤 or per kg.

A weight-priced SKU has a price per unit weight (fen per 斤 or per 公斤) and an estimated
weight per piece (``Sku.weight_grams``). The member buys pieces and pays the *estimated*
price per piece, which is stored in ``Sku.price_fen`` so that the cart, checkout, order
line constraint (total = unit price × quantity) and payments work unchanged. Staff weigh
the pieces at packing; when they weigh less, the difference is refunded automatically
(``fulfilment.actions.record_line_weight``); when they weigh more, the member is not charged
more than shown (the shop absorbs it: "多退少不补").

Rounding: every price for a weight is rounded **half up to the fen**, in integers only:
``price = ⌊(rate × grams × 2 + unit) / (2 × unit)⌋`` where ``unit`` is 500 g (斤) or 1000 g
(公斤). Weights are integer grams; 1 斤 = 500 g.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy


class SkuPricing(models.TextChoices):
    PIECE = "piece", gettext_lazy("按件")  # a fixed price per piece
    JIN = "jin", gettext_lazy("按斤")  # a price per 斤 (500 g), paid per piece at the estimated weight
    KG = "kg", gettext_lazy("按公斤")  # a price per 公斤 (1000 g), paid per piece at the estimated weight


UNIT_GRAMS = {SkuPricing.JIN.value: 500, SkuPricing.KG.value: 1000}
UNIT_NAMES = {500: gettext_lazy("斤"), 1000: gettext_lazy("公斤")}

# Bounds for what staff type: a piece of 1 g to 50 kg, a price per unit weight up to ¥100,000.
MAX_PIECE_GRAMS = 50_000
MAX_WEIGHT_PRICE_FEN = 10_000_000
# A recorded weight more than this many times the estimate is almost surely a typo.
MAX_ACTUAL_OVER_ESTIMATE = 3

# The only overweight policy built: the shop absorbs it ("少不补"). See docs in the report:
# asking the member to pay the extra is not built.
PROMISE = gettext_lazy("按实重多退少不补")
CHECKOUT_PROMISE = gettext_lazy("按实际重量多退少不补")


def is_weighed(pricing: str) -> bool:
    return pricing in UNIT_GRAMS


def price_for_grams(rate_fen: int, unit_grams: int, grams: int) -> int:
    """What ``grams`` cost at ``rate_fen`` per ``unit_grams``, rounded half up to the fen."""
    if rate_fen < 0 or unit_grams <= 0 or grams < 0:
        raise ValueError("rate and grams must be non-negative, the unit positive")
    return (rate_fen * grams * 2 + unit_grams) // (2 * unit_grams)


def estimated_piece_price(pricing: str, rate_fen: int, estimated_grams: int) -> int:
    """The price per piece a member pays for a weight-priced SKU: 35.00/斤 × 600 g → 42.00."""
    return price_for_grams(rate_fen, UNIT_GRAMS[pricing], estimated_grams)


def actual_line_price(
    *, unit_price_fen: int, quantity: int, unit_grams: int, rate_fen: int, estimated_grams: int, actual_grams: int
) -> int:
    """What a line's actual weight costs, in fen, at the price the member actually paid.

    ``estimated_grams`` is per piece, ``actual_grams`` the whole line. At the shelf price (the
    unit price is the estimate at the rate) this is rate × actual weight. When the line was
    sold at another price per piece (a campaign's), the member paid ``unit_price_fen`` for
    ``estimated_grams``, so that price per gram applies. Both round half up to the fen.
    """
    if unit_price_fen == price_for_grams(rate_fen, unit_grams, estimated_grams):
        return price_for_grams(rate_fen, unit_grams, actual_grams)
    line_grams = estimated_grams * quantity
    return (unit_price_fen * quantity * actual_grams * 2 + line_grams) // (2 * line_grams)


def refund_due_fen(total_fen: int, paid_fen: int, actual_price_fen: int) -> int:
    """The weight difference owed back on a line whose goods cost ``total_fen`` at the estimate,
    of which the member paid ``paid_fen`` (a coupon paid the rest, ADR 0019): the goods'
    difference in the paid share, rounded half up. Never negative (heavier is absorbed), never
    more than the member paid."""
    difference = max(0, min(total_fen, total_fen - actual_price_fen))
    if difference == 0:
        return 0
    return (difference * paid_fen * 2 + total_fen) // (2 * total_fen)


def refund_step_fen(due_fen: int, already_fen: int, left_fen: int) -> int:
    """How much to refund now: what is due and not yet refunded for the weight, within what
    is still refundable on the line. A correction never takes back what was refunded."""
    return max(0, min(due_fen - already_fen, left_fen))


def format_grams(grams: int, unit_grams: int) -> str:
    """600 g in 斤 → "1.2 斤"; 525 g → "1.05 斤"; 1000 g in 公斤 → "1 公斤" (half up, 2 decimals)."""
    hundredths = (grams * 100 * 2 + unit_grams) // (2 * unit_grams)
    whole, part = divmod(hundredths, 100)
    text = f"{whole}.{part:02d}".rstrip("0").rstrip(".")
    return f"{text} {UNIT_NAMES.get(unit_grams, 'g')}"


def sku_line_fields(sku: Any) -> dict[str, int | None]:
    """The weight snapshot an order line keeps of a weight-priced SKU (empty for others)."""
    if not is_weighed(sku.pricing):
        return {}
    return {
        "weight_unit_grams": UNIT_GRAMS[sku.pricing],
        "weight_price_fen": sku.weight_price_fen,
        "estimated_grams": sku.weight_grams,
    }


@dataclass(frozen=True)
class LineWeight:
    """What an order page shows about a weighed line (estimate, actual, difference)."""

    unit_grams: int
    rate_fen: int
    estimated_grams: int  # the whole line: per piece × quantity
    actual_grams: int | None
    actual_price_fen: int | None
    due_fen: int  # the difference owed back (0 until weighed, 0 when heavier)
    refunded_fen: int  # weight refunds issued so far
    total_fen: int

    @property
    def unit_name(self) -> str:
        return str(UNIT_NAMES[self.unit_grams])

    @property
    def rate_label(self) -> str:
        return f"¥{self.rate_fen // 100}.{self.rate_fen % 100:02d}/{self.unit_name}"

    @property
    def estimated_label(self) -> str:
        return format_grams(self.estimated_grams, self.unit_grams)

    @property
    def actual_label(self) -> str:
        return format_grams(self.actual_grams, self.unit_grams) if self.actual_grams is not None else ""

    @property
    def lighter_by_label(self) -> str:
        if self.actual_grams is None or self.actual_grams >= self.estimated_grams:
            return ""
        return format_grams(self.estimated_grams - self.actual_grams, self.unit_grams)

    @property
    def heavier(self) -> bool:
        return self.actual_grams is not None and self.actual_grams > self.estimated_grams

    @property
    def pending_fen(self) -> int:
        """Owed back but not refunded yet (a COD order before the cash is collected)."""
        return max(0, self.due_fen - self.refunded_fen)


def line_weight(line: Any) -> LineWeight | None:
    """The weight figures of an order line, or None for a line priced per piece."""
    if not line.weight_unit_grams:
        return None
    estimated = line.estimated_grams * line.quantity
    actual_price = None
    due = 0
    if line.actual_grams is not None:
        actual_price = actual_line_price(
            unit_price_fen=line.unit_price_fen,
            quantity=line.quantity,
            unit_grams=line.weight_unit_grams,
            rate_fen=line.weight_price_fen,
            estimated_grams=line.estimated_grams,
            actual_grams=line.actual_grams,
        )
        due = refund_due_fen(line.total_fen, line.paid_fen, actual_price)
    return LineWeight(
        unit_grams=line.weight_unit_grams,
        rate_fen=line.weight_price_fen,
        estimated_grams=estimated,
        actual_grams=line.actual_grams,
        actual_price_fen=actual_price,
        due_fen=due,
        refunded_fen=line.weight_refund_fen,
        total_fen=line.total_fen,
    )


def pending_weight_refunds_fen(lines: Iterable[Any]) -> int:
    """Weight differences owed back on ``lines`` and not refunded yet."""
    total = 0
    for line in lines:
        weight = line_weight(line)
        if weight is not None:
            total += weight.pending_fen
    return total
