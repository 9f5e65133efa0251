"""Gift API under /api/v1/gifts: buy a gift (then pay its order), the gifts one sent, and the
claim link's view and claim."""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from shequn.core.phone import mask_name
from shequn.core.schemas import Page, PageQuery, Text, error_responses, paginate

from . import actions, selectors
from .schemas import GiftClaimedOut, GiftClaimOut, GiftIn, GiftOut

router = Router(tags=["gifts"])

WRITE_ERRORS = error_responses(401, 403, 404, 409, 422)


@router.post("", response={201: GiftOut, **WRITE_ERRORS})
def buy(request: HttpRequest, body: GiftIn) -> Status[Any]:
    """Buy one for a friend; its claim link works once the order is paid. 422 ``gift_not_giftable``."""
    gift = actions.do_buy(request.user, body.sku_id, payment_method=body.payment_method, message=body.message)
    return Status(201, GiftOut.from_model(gift))


@router.get("/sent", response={200: Page[GiftOut], **error_responses(401, 422)})
def sent(request: HttpRequest, query: Query[PageQuery]) -> dict[str, Any]:
    page = paginate(selectors.sent_gifts(request.user), query.page, query.page_size)
    page["items"] = [GiftOut.from_model(gift) for gift in page["items"]]
    return page


@router.get("/claim/{token}", response={200: GiftClaimOut, **error_responses(404, 422)}, auth=None)
def claim_view(request: HttpRequest, token: Text) -> dict[str, Any]:
    gift = selectors.access_claimable(token)
    line = gift.order.lines.first()
    return {
        "kind": gift.kind,
        "status": gift.status,
        "title": line.title if line else "",
        "sender": mask_name(gift.sender.nickname),
        "message": gift.message,
        "claim_by": gift.claim_by,
    }


@router.post("/claim/{token}", response={200: GiftClaimedOut, **WRITE_ERRORS})
def claim(request: HttpRequest, token: Text) -> dict[str, Any]:
    """409 ``gift_not_claimable`` (claimed, refunded, unpaid, past its time) or ``gift_own``."""
    gift = actions.do_claim(request.user, token)
    return {"kind": gift.kind, "subject_id": gift.subject_id or 0}
