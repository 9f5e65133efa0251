"""Small builders for distribution tests: an approved promoter, a chain of bound promoters."""

from typing import Any

from shequn.distribution import actions
from shequn.distribution.enums import PromoterStatus
from shequn.distribution.models import Promoter
from shequn.testing.factories import UserFactory


def approved_promoter(shop: Any, user: Any = None, nickname: str = "") -> Promoter:
    user = user or UserFactory.create(**({"nickname": nickname} if nickname else {}))
    promoter = actions.do_apply(user, shop)
    Promoter.objects.filter(pk=promoter.pk).update(status=PromoterStatus.APPROVED)
    promoter.refresh_from_db()
    return promoter


def chain(shop: Any, names: str) -> dict[str, Promoter]:
    """Promoters named by the letters of ``names``, each bound to the one before (A→B→C…)."""
    found: dict[str, Promoter] = {}
    previous: Promoter | None = None
    for name in names:
        promoter = approved_promoter(shop, nickname=name)
        if previous is not None:
            actions.do_bind(previous, promoter.user)
        found[name] = promoter
        previous = promoter
    return found
