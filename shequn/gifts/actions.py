"""Every write of gifts. A gift is an ordinary order (the buyer pays through the cashier) plus a
claim link; the app owning the bought kind decides what claiming and refunding mean
(``gifts.kinds``). Status moves are conditional UPDATEs under the gift's row lock."""

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.catalog.models import Sku
from shequn.core.errors import NotFound
from shequn.core.ids import random_token
from shequn.orders import actions as order_actions
from shequn.orders.enums import Fulfilment
from shequn.orders.models import Order

from .enums import GiftStatus
from .errors import GiftNotClaimable, NotGiftable
from .kinds import GiftRules, rules_for
from .models import Gift
from .selectors import access_claimable

# How long a paid gift waits for its recipient before the buyer is refunded.
CLAIM_DAYS = 7
MAX_MESSAGE_LENGTH = 60


def _rules(kind: str) -> GiftRules:
    rules = rules_for(kind)
    if rules is None:
        raise NotGiftable(_("这件商品不能送礼"))
    return rules


def do_buy(user: Any, sku_id: int, *, payment_method: str, message: str = "") -> Gift:
    """Buy one of ``sku_id`` (a giftable kind: a package) for a friend: the order to pay, and its
    gift, whose claim link works once the order is paid."""
    if not getattr(user, "is_authenticated", False):
        raise NotFound(_("请先登录"), code="not_authenticated")
    sku = Sku.objects.select_related("product").filter(pk=sku_id).first()
    if sku is None:
        raise NotGiftable(_("这件商品不能送礼"))
    _rules(sku.product.kind)
    message = (message or "").strip()[:MAX_MESSAGE_LENGTH]
    with transaction.atomic():
        order = order_actions.create_order(
            user, sku_id=sku.pk, quantity=1, fulfilment=Fulfilment.NONE, payment_method=payment_method
        )
        return Gift.objects.create(
            shop_id=order.shop_id,
            sender=user,
            kind=sku.product.kind,
            order=order,
            token=random_token(),
            message=message,
        )


def do_open(sender: Any, order: Order, *, kind: str, subject_id: int, message: str = "") -> Gift:
    """A gift of something ``sender`` already holds (bought by ``order``), its claim link open at once
    for ``CLAIM_DAYS``; called by the owning app, which holds the thing for the recipient meanwhile."""
    return Gift.objects.create(
        shop_id=order.shop_id,
        sender=sender,
        kind=kind,
        order=order,
        subject_id=subject_id,
        token=random_token(),
        message=(message or "").strip()[:MAX_MESSAGE_LENGTH],
        status=GiftStatus.OPEN,
        claim_by=timezone.now() + timedelta(days=CLAIM_DAYS),
    )


def gift_paid(order: Order, subject_id: int, *, now: datetime | None = None) -> bool:
    """Called by a giftable kind's ``paid`` rule (the order's row locked): when ``order`` pays for
    a gift, open its claim link for ``CLAIM_DAYS`` and return True (the kind then holds the bought
    thing for the recipient); False for an order bought for oneself."""
    now = now or timezone.now()
    return (
        Gift.objects.filter(order=order, status=GiftStatus.AWAITING_PAYMENT).update(
            status=GiftStatus.OPEN, subject_id=subject_id, claim_by=now + timedelta(days=CLAIM_DAYS)
        )
        == 1
    )


def do_claim(recipient: Any, token: str, *, now: datetime | None = None) -> Gift:
    """The recipient claims the gift: the owning app makes them its holder, exactly once."""
    now = now or timezone.now()
    with transaction.atomic():
        gift = access_claimable(token, lock=True)
        if gift.status != GiftStatus.OPEN or gift.claim_by is None or gift.claim_by <= now:
            raise GiftNotClaimable(_("这份礼物已被领取、已退款或已过领取期限"))
        if gift.sender_id == recipient.pk:
            raise GiftNotClaimable(_("不能领取自己送出的礼物，请把链接发给好友"), code="gift_own")
        _rules(gift.kind).claim(gift, recipient)
        Gift.objects.filter(pk=gift.pk).update(status=GiftStatus.CLAIMED, recipient=recipient, claimed_at=now)
        gift.status, gift.recipient, gift.claimed_at = GiftStatus.CLAIMED, recipient, now
    return gift


def refund_unclaimed(*, now: datetime | None = None, limit: int = 200) -> int:
    """Refund the buyers of gifts nobody claimed by their ``claim_by`` (safe to run twice: each gift
    moves once, under its row lock). Returns how many were refunded."""
    now = now or timezone.now()
    ids = list(
        Gift.objects.filter(status=GiftStatus.OPEN, claim_by__lte=now)
        .order_by("claim_by", "id")[:limit]
        .values_list("pk", flat=True)
    )
    refunded = 0
    for gift_id in ids:
        with transaction.atomic():
            gift = Gift.objects.select_for_update().get(pk=gift_id)
            if gift.status != GiftStatus.OPEN:
                continue
            _rules(gift.kind).refund(gift)
            Gift.objects.filter(pk=gift.pk).update(status=GiftStatus.REFUNDED, refunded_at=now)
            refunded += 1
    return refunded
