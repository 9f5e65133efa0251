"""What each kind of gift does when claimed or left unclaimed.

A gift is bought as an ordinary order of a product kind (a package today; a stored-value card
is the next). The app owning that kind registers its ``GiftRules`` in ``AppConfig.ready()``:
its ``KindRules.paid`` hands the bought thing to ``gifts.actions.gift_paid`` (which says whether
the order pays for a gift), and the gifts app calls back here, under the gift's row lock:

- ``claim``   the recipient claimed: make them the holder;
- ``refund``  nobody claimed it in time: give the buyer's money back;
- ``claimed_url`` where the recipient goes once they hold it.
"""

from typing import Any, Protocol


class GiftRules(Protocol):
    def claim(self, gift: Any, recipient: Any) -> None: ...

    def refund(self, gift: Any) -> None: ...

    def claimed_url(self, gift: Any) -> str: ...


_RULES: dict[str, GiftRules] = {}


def register(kind: str, rules: GiftRules) -> None:
    _RULES[kind] = rules


def rules_for(kind: str) -> GiftRules | None:
    return _RULES.get(kind)
