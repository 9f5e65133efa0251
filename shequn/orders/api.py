"""/api/v1/orders: the member's cart, orders and refunds; /console/... for the caller's shop."""

from typing import Annotated, Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Header, Query, Router, Status

from shequn.core.audit import client_ip
from shequn.core.errors import NotFound
from shequn.core.idempotency import Answer, once
from shequn.core.schemas import Id, Page, PageQuery, Text, error_responses, paginate
from shequn.shops import permissions
from shequn.shops.models import Shop
from shequn.shops.selectors import require_permission, staff_shops

from . import actions, selectors
from .errors import ShopRequired
from .models import Order
from .schemas import (
    CartGroupOut,
    CartItemIn,
    CartItemOut,
    CartQuantityIn,
    CheckoutQuoteOut,
    ConsoleOrderDetailOut,
    ConsoleOrderFilters,
    ConsoleOrderOut,
    OrderCreateIn,
    OrderDetailOut,
    OrderOut,
    OrderReasonIn,
    OrderTabQuery,
    RefundIn,
    RefundOut,
    RefundQuery,
    ShipIn,
    cart_group_out,
    cart_item_out,
    checkout_quote_out,
    order_out,
    refund_out,
)

router = Router(tags=["orders"])


def _page(rows: Any, page: int, page_size: int, build: Any) -> dict[str, Any]:
    result = paginate(rows, page, page_size)
    result["items"] = [build(row) for row in result["items"]]
    return result


# --- cart -----------------------------------------------------------------------------


@router.get("/cart", response={200: list[CartGroupOut], **error_responses(401)})
def list_cart(request: HttpRequest) -> Any:
    """The member's cart, grouped by shop."""
    return [cart_group_out(group) for group in actions.priced_cart(request.user)]


@router.post("/cart", response={201: CartItemOut, **error_responses(401, 404, 422)})
def add_cart_item(request: HttpRequest, payload: CartItemIn) -> Any:
    item = actions.add_to_cart(
        request.user, payload.sku_id, payload.quantity, post_id=payload.post_id, article_id=payload.article_id
    )
    return Status(201, cart_item_out(selectors.access_cart_item(request.user, item.pk)))


@router.patch("/cart/{item_id}", response={200: CartItemOut, **error_responses(401, 404, 422)})
def update_cart_item(request: HttpRequest, item_id: Id, payload: CartQuantityIn) -> Any:
    item = actions.update_cart_item(request.user, item_id, payload.quantity)
    return cart_item_out(item)


@router.delete("/cart/{item_id}", response={204: None, **error_responses(401, 404, 422)})
def delete_cart_item(request: HttpRequest, item_id: Id) -> Any:
    actions.remove_cart_item(request.user, item_id)
    return Status(204, None)


# --- console: registered before the /{number} routes, so "console" is never read as a number


def console_shop(request: HttpRequest, permission: Text) -> Shop:
    """The staff caller's shop: the ``X-Shop`` slug, or their only shop; checks ``permission``."""
    shops = staff_shops(request.user)
    slug = request.headers.get("X-Shop")
    if slug:
        shop = shops.filter(slug=slug).first()
    else:
        candidates = list(shops[:2])
        if len(candidates) > 1:
            raise ShopRequired(_("你在多家店铺任职，请用 X-Shop 请求头指定店铺"))
        shop = candidates[0] if candidates else None
    if shop is None:
        raise NotFound(_("店铺不存在"), code="shop_not_found")
    require_permission(request.user, shop, permission)
    return shop


def _console_order(shop: Shop, order_id: int) -> dict[str, Any]:
    return order_out(selectors.access_order(shop, order_id), console=True, timeline=True)


@router.get("/console/orders", response={200: Page[ConsoleOrderOut], **error_responses(401, 403, 404, 422)})
def console_list_orders(request: HttpRequest, filters: Query[ConsoleOrderFilters]) -> Any:
    shop = console_shop(request, permissions.VIEW_ORDERS)
    rows = selectors.staff_orders(
        shop,
        status=filters.status,
        fulfilment=filters.fulfilment,
        payment_method=filters.payment_method,
        search=filters.search,
        date_from=filters.date_from,
        date_to=filters.date_to,
        delivery_slot_id=filters.delivery_slot_id,
    )
    return _page(rows, filters.page, filters.page_size, lambda order: order_out(order, console=True))


@router.get("/console/orders/{order_id}", response={200: ConsoleOrderDetailOut, **error_responses(401, 403, 404, 422)})
def console_get_order(request: HttpRequest, order_id: Id) -> Any:
    return _console_order(console_shop(request, permissions.VIEW_ORDERS), order_id)


_ACT_ERRORS = error_responses(401, 403, 404, 409, 422)


@router.post("/console/orders/{order_id}/ship", response={200: ConsoleOrderDetailOut, **_ACT_ERRORS})
def console_ship(request: HttpRequest, order_id: Id, payload: ShipIn) -> Any:
    shop = console_shop(request, permissions.FULFIL_ORDERS)
    actions.ship_order(
        shop,
        order_id,
        request.user,
        tracking_company=payload.tracking_company,
        tracking_number=payload.tracking_number,
        ip=client_ip(request),
    )
    return _console_order(shop, order_id)


@router.post("/console/orders/{order_id}/ready", response={200: ConsoleOrderDetailOut, **_ACT_ERRORS})
def console_ready(request: HttpRequest, order_id: Id) -> Any:
    shop = console_shop(request, permissions.FULFIL_ORDERS)
    actions.mark_ready_for_pickup(shop, order_id, request.user, ip=client_ip(request))
    return _console_order(shop, order_id)


@router.post("/console/orders/{order_id}/picked-up", response={200: ConsoleOrderDetailOut, **_ACT_ERRORS})
def console_picked_up(request: HttpRequest, order_id: Id) -> Any:
    shop = console_shop(request, permissions.FULFIL_ORDERS)
    actions.mark_picked_up(shop, order_id, request.user, ip=client_ip(request))
    return _console_order(shop, order_id)


@router.post("/console/orders/{order_id}/delivered", response={200: ConsoleOrderDetailOut, **_ACT_ERRORS})
def console_delivered(request: HttpRequest, order_id: Id) -> Any:
    shop = console_shop(request, permissions.FULFIL_ORDERS)
    actions.mark_delivered(shop, order_id, request.user, ip=client_ip(request))
    return _console_order(shop, order_id)


@router.post("/console/orders/{order_id}/complete", response={200: ConsoleOrderDetailOut, **_ACT_ERRORS})
def console_complete(request: HttpRequest, order_id: Id) -> Any:
    shop = console_shop(request, permissions.FULFIL_ORDERS)
    actions.complete_order(shop, order_id, request.user, ip=client_ip(request))
    return _console_order(shop, order_id)


@router.post("/console/orders/{order_id}/cancel", response={200: ConsoleOrderDetailOut, **_ACT_ERRORS})
def console_cancel(request: HttpRequest, order_id: Id, payload: OrderReasonIn) -> Any:
    shop = console_shop(request, permissions.FULFIL_ORDERS)
    actions.cancel_unpaid_order(shop, order_id, request.user, reason=payload.reason, ip=client_ip(request))
    return _console_order(shop, order_id)


@router.get("/console/refunds", response={200: Page[RefundOut], **error_responses(401, 403, 404, 422)})
def console_list_refunds(request: HttpRequest, query: Query[RefundQuery]) -> Any:
    shop = console_shop(request, permissions.VIEW_ORDERS)
    return _page(selectors.shop_refunds(shop, status=query.status), query.page, query.page_size, refund_out)


@router.post("/console/refunds/{refund_id}/reject", response={200: RefundOut, **_ACT_ERRORS})
def console_reject_refund(request: HttpRequest, refund_id: Id, payload: OrderReasonIn) -> Any:
    shop = console_shop(request, permissions.DECIDE_REFUNDS)
    refund = selectors.access_refund(shop, refund_id)
    actions.reject_refund(shop, refund, request.user, payload.reason, ip=client_ip(request))
    return refund_out(selectors.access_refund(shop, refund_id))


# --- member orders --------------------------------------------------------------------


@router.post("", response={201: OrderDetailOut, **error_responses(401, 403, 404, 409, 422)})
def create_order(
    request: HttpRequest,
    payload: OrderCreateIn,
    idempotency_key: Annotated[Text | None, Header(alias="Idempotency-Key")] = None,
) -> Any:
    """Create an order. Send ``Idempotency-Key`` to make retries safe (same key and body → same order)."""
    body = payload.model_dump(mode="json")

    def answer(order: Order) -> Answer:
        return 201, OrderDetailOut.model_validate(order_out(order, timeline=True)).model_dump(mode="json")

    request_once = once(user=request.user, scope="orders.create", key=idempotency_key, payload=body, answer=answer)
    if request_once is None:
        status, response = answer(actions.create_order(request.user, **body))
    else:
        status, response = actions.create_order_once(request.user, request_once, **body)
    return Status(status, response)


@router.post("/quote", response={200: CheckoutQuoteOut, **error_responses(401, 403, 404, 409, 422)})
def quote_order(request: HttpRequest, payload: OrderCreateIn) -> Any:
    """What ``POST /orders`` with this body would charge, without ordering: lines at the price the
    member pays, delivery fee and free-delivery gap, COD. A destination may still be missing; any
    other input ``POST /orders`` would refuse is refused here with the same error."""
    return checkout_quote_out(actions.quote_checkout(request.user, **payload.model_dump(mode="json")))


@router.get("", response={200: Page[OrderOut], **error_responses(401, 422)})
def list_orders(request: HttpRequest, query: Query[OrderTabQuery]) -> Any:
    """The member's own orders, newest first; ``tab`` is pending, to_ship, to_receive, done or closed."""
    return _page(selectors.member_orders(request.user, query.tab), query.page, query.page_size, order_out)


@router.get("/refunds", response={200: Page[RefundOut], **error_responses(401, 422)})
def list_refunds(request: HttpRequest, query: Query[PageQuery]) -> Any:
    return _page(selectors.member_refunds(request.user), query.page, query.page_size, refund_out)


@router.get("/{number}", response={200: OrderDetailOut, **error_responses(401, 404, 422)})
def get_order(request: HttpRequest, number: Text) -> Any:
    return order_out(selectors.access_member_order(request.user, number), timeline=True)


@router.post("/{number}/cancel", response={200: OrderDetailOut, **error_responses(401, 404, 409, 422)})
def cancel_order(request: HttpRequest, number: Text) -> Any:
    order = actions.cancel_order_by_member(request.user, number)
    return order_out(order, timeline=True)


@router.post("/{number}/refunds", response={201: RefundOut, **error_responses(401, 404, 409, 422)})
def request_refund(request: HttpRequest, number: Text, payload: RefundIn) -> Any:
    refund = actions.request_refund(
        request.user, number, payload.line_id, amount_fen=payload.amount_fen, reason=payload.reason
    )
    return Status(201, refund_out(refund))
