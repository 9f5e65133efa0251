"""Lottery API under /api/v1/lotteries: members (a lottery, its verification data, enter, spin,
my wins, claim a prize) and operators (/console/...: list, create, edit, publish, draw, figures)."""

from django.http import HttpRequest
from ninja import Query, Router, Status

from shequn.core.audit import client_ip
from shequn.core.schemas import Id, Page, PageQuery, error_responses, paginate
from shequn.shops.console import api_console_shop
from shequn.shops.permissions import MANAGE_CATALOG

from . import actions, selectors
from .schemas import (
    LotteryClaimIn,
    LotteryEntryOut,
    LotteryFiguresOut,
    LotteryIn,
    LotteryOut,
    LotterySpinOut,
    LotteryVerificationOut,
    LotteryWinOut,
)

router = Router(tags=["lotteries"])
console = Router(tags=["lotteries console"])

READ_ERRORS = error_responses(401, 404, 422)
WRITE_ERRORS = error_responses(401, 403, 404, 409, 422, 429)
CONSOLE_ERRORS = error_responses(401, 403, 404, 409, 422)


@router.get("/{int:lottery_id}", response={200: LotteryOut, **READ_ERRORS}, auth=None)
def lottery(request: HttpRequest, lottery_id: Id) -> LotteryOut:
    """A published lottery: its full rules, prizes (and a wheel's odds and stock left) and the
    commitment hash; drafts look absent."""
    return LotteryOut.from_model(selectors.public_lottery(lottery_id))


@router.get("/{int:lottery_id}/verification", response={200: LotteryVerificationOut, **READ_ERRORS}, auth=None)
def verification(request: HttpRequest, lottery_id: Id) -> dict:
    """The published data of a timed draw: commitment, the seed once drawn, prizes, the masked entry
    list and the winners. scripts/verify_lottery.py recomputes the winners from this document."""
    return selectors.verification(selectors.public_lottery(lottery_id))


@router.post("/{int:lottery_id}/entries", response={200: LotteryEntryOut, **WRITE_ERRORS})
def enter(request: HttpRequest, lottery_id: Id) -> LotteryEntryOut:
    """Enter a timed draw; a second call returns the same entry (``created`` false). 409
    ``lottery_not_open`` / ``lottery_closed``; 403 ``lottery_members_only`` /
    ``lottery_purchase_required``; 429 ``rate_limited``."""
    entry, created = actions.enter(request.user, lottery_id)
    return LotteryEntryOut.from_entry(entry, created)


@router.post("/{int:lottery_id}/spins", response={200: LotterySpinOut, **WRITE_ERRORS})
def spin(request: HttpRequest, lottery_id: Id) -> LotterySpinOut:
    """Spin an instant wheel through the admission gate: won / lost (or queued when the decision is
    still with another consumer: see my wins). 409 ``lottery_no_spins_left``; 429
    ``lottery_rate_limited``."""
    return LotterySpinOut.from_result(actions.spin(request.user, lottery_id, client_ip=client_ip(request)))


@router.get("/{int:lottery_id}/wins", response={200: list[LotteryWinOut], **READ_ERRORS})
def my_wins(request: HttpRequest, lottery_id: Id) -> list[LotteryWinOut]:
    return [
        LotteryWinOut.from_model(win) for win in selectors.my_wins(request.user, selectors.public_lottery(lottery_id))
    ]


@router.post("/wins/{int:win_id}/claim", response={200: LotteryWinOut, **WRITE_ERRORS})
def claim(request: HttpRequest, win_id: Id, body: LotteryClaimIn) -> LotteryWinOut:
    """Claim a prize: goods as a zero-price order (pickup or delivery); a coupon is issued to my
    coupons, a red packet credited to my wallet (no fulfilment needed). 409 ``lottery_prize_claimed``
    / ``lottery_claim_closed``, or the coupon's refusal (``coupon_sold_out`` …)."""
    win = actions.claim_prize(
        request.user,
        win_id,
        fulfilment=body.fulfilment,
        address_id=body.address_id,
        pickup_point_id=body.pickup_point_id,
    )
    return LotteryWinOut.from_model(win)


# --- operators -------------------------------------------------------------------------


@console.get("/lotteries", response={200: Page[LotteryOut], **CONSOLE_ERRORS})
def console_lotteries(request: HttpRequest, query: Query[PageQuery]) -> dict:
    shop = api_console_shop(request, MANAGE_CATALOG)
    page = paginate(selectors.shop_lotteries(shop).prefetch_related("prizes"), query.page, query.page_size)
    page["items"] = [LotteryOut.from_model(found) for found in page["items"]]
    return page


@console.post("/lotteries", response={201: LotteryOut, **CONSOLE_ERRORS})
def console_create(request: HttpRequest, body: LotteryIn) -> Status[LotteryOut]:
    """A draft. 422 ``lottery_invalid`` says what to fix; ``lottery_sharing_refused`` for a sharing,
    posting or inviting condition."""
    shop = api_console_shop(request, MANAGE_CATALOG)
    created = actions.create_lottery(shop, request.user, body.to_input(), ip=client_ip(request))
    return Status(201, LotteryOut.from_model(created))


@console.put("/lotteries/{int:lottery_id}", response={200: LotteryOut, **CONSOLE_ERRORS})
def console_update(request: HttpRequest, lottery_id: Id, body: LotteryIn) -> LotteryOut:
    """Replace the rules and prizes; 409 ``lottery_frozen`` once the lottery has started."""
    shop = api_console_shop(request, MANAGE_CATALOG)
    return LotteryOut.from_model(
        actions.update_lottery(shop, request.user, lottery_id, body.to_input(), ip=client_ip(request))
    )


@console.post("/lotteries/{int:lottery_id}/publish", response={200: LotteryOut, **CONSOLE_ERRORS})
def console_publish(request: HttpRequest, lottery_id: Id) -> LotteryOut:
    """Publish before the start and commit to the seed's hash; 409 ``lottery_start_passed``."""
    shop = api_console_shop(request, MANAGE_CATALOG)
    return LotteryOut.from_model(actions.publish_lottery(shop, request.user, lottery_id, ip=client_ip(request)))


@console.post("/lotteries/{int:lottery_id}/draw", response={200: LotteryOut, **CONSOLE_ERRORS})
def console_draw(request: HttpRequest, lottery_id: Id) -> LotteryOut:
    """Draw now if the draw time has come and the scheduled task has not; 409 ``lottery_draw_not_due``."""
    shop = api_console_shop(request, MANAGE_CATALOG)
    return LotteryOut.from_model(actions.draw_now(shop, request.user, lottery_id, ip=client_ip(request)))


@console.get("/lotteries/{int:lottery_id}/figures", response={200: LotteryFiguresOut, **CONSOLE_ERRORS})
def console_figures(request: HttpRequest, lottery_id: Id) -> LotteryFiguresOut:
    shop = api_console_shop(request, MANAGE_CATALOG)
    return LotteryFiguresOut.from_figures(selectors.figures(selectors.access_lottery(shop, lottery_id)))


router.add_router("/console", console)
