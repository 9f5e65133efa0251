"""The lottery's lifecycle: allowed moves, and the one helper that makes them (audited)."""

from typing import Any

from django.utils.translation import gettext as _

from shequn.core import audit
from shequn.core.errors import InvalidTransition

from .enums import LotteryStatus
from .models import Lottery

S = LotteryStatus

TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.PUBLISHED}),
    S.PUBLISHED: frozenset({S.DRAWN}),  # timed draws; an instant wheel stays published and ends by its time
    S.DRAWN: frozenset(),
}


def transition(lottery: Lottery, to_status: str, *, actor: Any = None, ip: str | None = None, **fields: Any) -> None:
    """Move ``lottery`` (conditional UPDATE: of two racing callers one wins) and audit the move
    with ``fields`` saved alongside."""
    from_status = lottery.status
    if to_status not in TRANSITIONS[from_status]:
        raise InvalidTransition(
            _("抽奖状态为「%(from)s」，不能变为「%(to)s」") % {"from": S(from_status).label, "to": S(to_status).label},
            code="lottery_invalid_transition",
        )
    if Lottery.objects.filter(pk=lottery.pk, status=from_status).update(status=to_status, **fields) != 1:
        raise InvalidTransition(_("抽奖状态已变化，请刷新后重试"), code="lottery_invalid_transition")
    lottery.status = to_status
    for name, value in fields.items():
        setattr(lottery, name, value)
    audit.record(
        actor=actor,
        shop=lottery.shop,
        action=f"lottery.{to_status}",
        obj=lottery,
        ip=ip,
        from_status=from_status,
        **{name: str(value) for name, value in fields.items() if name != "seed"},
    )
