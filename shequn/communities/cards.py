"""Cards other apps attach to feed posts (a group-buy campaign's 接龙 card, …), drawn under the post.

Communities sits below the apps that post into feeds, so it cannot ask them what a post is
about; each such app registers a provider in its ``AppConfig.ready()`` (ADR 0005). A provider
is given the posts of one page and returns the cards of the posts it owns, in a fixed number
of queries whatever the page size.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .models import Post


@dataclass(frozen=True)
class PostCard:
    template: str  # the partial that draws the card; it reads ``card.data``
    data: Any


CardProvider = Callable[[Sequence[Post]], Mapping[int, Sequence[PostCard]]]

_PROVIDERS: dict[str, CardProvider] = {}


def register(name: str, provider: CardProvider) -> None:
    """Called once per app from its ``ready()``; registering a name again replaces it."""
    _PROVIDERS[name] = provider


def attach_cards(posts: Iterable[Post]) -> list[Post]:
    """The posts, each with ``attached_cards``: every registered app's cards for it, in order."""
    found = list(posts)
    by_id: dict[int, Post] = {}
    for post in found:
        post.attached_cards = []  # type: ignore[attr-defined]
        by_id[post.pk] = post
    if not found:
        return found
    for name in sorted(_PROVIDERS):
        for post_id, cards in _PROVIDERS[name](found).items():
            if post_id in by_id:
                by_id[post_id].attached_cards.extend(cards)  # type: ignore[attr-defined]
    return found
