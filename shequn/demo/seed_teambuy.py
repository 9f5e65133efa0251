"""Team buys for the demo: one offer (a 3-person team at a team price below the shelf price) and
one team still forming, opened by a real demo member who paid through the sandbox gateway.

No fake members: the team shows 1/3 and waits for real people to join from its share link.
Skipped when the shop already has the offer, so a second seed changes nothing.
"""

from django.db.models import Q

from shequn.accounts.models import Address, User
from shequn.catalog.kinds import ProductKind
from shequn.catalog.models import Sku
from shequn.orders.enums import Fulfilment
from shequn.payments import actions as payments
from shequn.payments.models import Payment
from shequn.payments.sandbox import server as sandbox
from shequn.shops.models import PickupPoint, Shop, StaffMember
from shequn.teambuy import actions
from shequn.teambuy.models import TeamOffer

OFFER_TITLE = "三人拼团价"
TEAM_SIZE = 3


def _sku(shop: Shop) -> Sku | None:
    """The shop's priciest goods SKU in stock (a team price on it is worth sharing)."""
    return (
        Sku.objects.filter(
            shop=shop,
            is_active=True,
            stock__gte=TEAM_SIZE,
            price_fen__gte=200,
            product__shop=shop,
            product__kind=ProductKind.GOODS,
            product__on_shelf=True,
        )
        .select_related("product")
        .order_by("-price_fen", "pk")
        .first()
    )


def _opener(shop: Shop) -> User | None:
    staff_ids = StaffMember.objects.filter(shop=shop).values_list("user_id", flat=True)
    return (
        User.objects.filter(Q(phone__isnull=False) & ~Q(phone=""))
        .exclude(pk__in=staff_ids)
        .filter(is_staff=False)
        .order_by("pk")
        .first()
    )


def seed_teambuy(shop: Shop, staff_user: User) -> TeamOffer | None:
    """Create (once) the demo offer and one forming team; returns the offer (None without goods)."""
    existing = TeamOffer.objects.filter(shop=shop, title__startswith=OFFER_TITLE).first()
    if existing is not None:
        return existing
    sku = _sku(shop)
    opener = _opener(shop)
    if sku is None or opener is None:
        return None
    team_price = max(1, sku.price_fen * 80 // 100)  # 20% off for a team of three
    offer = actions.do_create_offer(
        shop,
        actions.OfferInput(
            sku_id=sku.pk,
            title=f"{OFFER_TITLE}·{sku.product.title}",
            team_size=TEAM_SIZE,
            team_price_fen=team_price,
            time_limit_hours=24,
        ),
        actor=staff_user,
    )
    point = PickupPoint.objects.filter(shop=shop, is_active=True).order_by("pk").first()
    address = Address.objects.filter(user=opener).order_by("pk").first()
    if point is not None:
        destination = actions.Destination(fulfilment=Fulfilment.PICKUP, pickup_point_id=point.pk)
    elif address is not None:
        destination = actions.Destination(fulfilment=Fulfilment.DELIVERY, address_id=address.pk)
    else:
        return offer
    member = actions.do_open_team(opener, offer.pk, destination)
    payments.start_payment(member.order, opener)
    sandbox.confirm(Payment.objects.values_list("prepay_id", flat=True).get(order=member.order))
    return offer
