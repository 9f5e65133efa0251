"""Stable error codes of the orders app. Codes never change once shipped; messages are zh-hans."""

from shequn.core.errors import Conflict, InvalidInput, NotFound


class SoldOut(Conflict):
    """Not enough stock for a line; the whole order was rolled back."""

    code = "sold_out"


class PurchaseCapExceeded(Conflict):
    """The member would hold more units of a product than its per-person cap allows."""

    code = "purchase_cap_exceeded"


class AccountInactive(Conflict):
    """The buyer's account is disabled: no new orders (a trusted caller ordering on their behalf)."""

    code = "account_inactive"


class ProductUnavailable(InvalidInput):
    """Off the shelf, inactive SKU, or not of this shop."""

    code = "product_unavailable"


class CartMixedShops(InvalidInput):
    code = "cart_mixed_shops"


class CartEmpty(InvalidInput):
    code = "cart_empty"


class InvalidQuantity(InvalidInput):
    code = "invalid_quantity"


class AddressRequired(InvalidInput):
    code = "address_required"


class PickupPointRequired(InvalidInput):
    code = "pickup_point_required"


class PaymentMethodUnavailable(InvalidInput):
    code = "payment_method_unavailable"


class NoteTooLong(InvalidInput):
    code = "note_too_long"


class OrderTooLarge(InvalidInput):
    code = "order_too_large"


class OrderNotFound(NotFound):
    code = "order_not_found"


class RefundNotFound(NotFound):
    code = "refund_not_found"


class CartItemNotFound(NotFound):
    code = "cart_item_not_found"


class NotReturnable(InvalidInput):
    """Fresh goods cannot be returned once they left the shop (消费者权益保护法 art. 25)."""

    code = "not_returnable"


class RefundAmountInvalid(InvalidInput):
    code = "refund_amount_invalid"


class RefundReasonRequired(InvalidInput):
    code = "refund_reason_required"


class OrderNotPaid(Conflict):
    code = "order_not_paid"


class TrackingRequired(InvalidInput):
    code = "tracking_required"


class RejectReasonRequired(InvalidInput):
    code = "reject_reason_required"


class ShopRequired(InvalidInput):
    """A staff member of several shops must say which one (X-Shop header)."""

    code = "shop_required"


class SlotRequired(InvalidInput):
    """The shop asks delivery orders to choose a delivery slot."""

    code = "slot_required"


class SlotNotFound(NotFound):
    """No delivery slot of this shop has that id."""

    code = "slot_not_found"


class SlotFull(Conflict):
    """Every place of the delivery slot is taken."""

    code = "slot_full"


class SlotClosed(Conflict):
    """The delivery slot is past its order cut-off, or staff closed it."""

    code = "slot_closed"
