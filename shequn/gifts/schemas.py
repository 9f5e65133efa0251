"""API shapes of gifts. The claim token is the secret of the claim link."""

from datetime import datetime
from typing import Any

from ninja import Schema
from pydantic import Field

from shequn.core.phone import mask_name
from shequn.core.schemas import Id, Text

from .actions import MAX_MESSAGE_LENGTH
from .models import Gift


class GiftIn(Schema):
    sku_id: Id  # a giftable product's SKU (a package's sku_id)
    payment_method: Text = Field(max_length=16)
    message: Text = Field("", max_length=MAX_MESSAGE_LENGTH)


class GiftOut(Schema):
    """A gift as its buyer sees it: never the recipient's address, only a masked name."""

    id: int
    kind: str  # package
    status: str  # awaiting_payment, open, claimed or refunded
    order_number: str  # pay it like any order (POST /payments/orders/{number}/pay)
    token: str  # the claim link is /gifts/claim/{token}/
    message: str
    claim_by: datetime | None
    recipient: str  # masked nickname once claimed
    claimed_at: datetime | None

    @staticmethod
    def from_model(gift: Gift) -> dict[str, Any]:
        return {
            "id": gift.pk,
            "kind": gift.kind,
            "status": gift.status,
            "order_number": gift.order.number,
            "token": gift.token,
            "message": gift.message,
            "claim_by": gift.claim_by,
            "recipient": mask_name(gift.recipient.nickname) if gift.recipient else "",
            "claimed_at": gift.claimed_at,
        }


class GiftClaimOut(Schema):
    """What the claim link shows anyone holding it."""

    kind: str
    status: str
    title: str
    sender: str  # masked nickname
    message: str
    claim_by: datetime | None


class GiftClaimedOut(Schema):
    kind: str
    subject_id: int  # what the recipient now holds (for a package: GET /packages/mine/{subject_id})
