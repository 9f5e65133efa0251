"""Red packets (红包): a pool an operator funds from the shop's ledger account, cut into parts when
it is funded, grabbed one part per member through the admission gate (``shequn.gate``, pool
``redpacket:{pk}``), credited to each grabber's wallet; what nobody grabbed goes back to the shop
at expiry. The books: ``total_fen = grabbed_fen + returned_fen + what the holding account still
holds for the packet`` (``selectors.reconcile``)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .enums import Audience, PacketStatus, Split

POOL_OWNER = "redpacket"  # the gate's stream of red-packet grabs (pools "redpacket:{pk}")


def pool_key(packet_id: int) -> str:
    return f"{POOL_OWNER}:{packet_id}"


class RedPacket(models.Model):
    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="red_packets")
    title = models.CharField(_("标题"), max_length=60)
    total_fen = models.PositiveIntegerField()
    count = models.PositiveIntegerField()  # how many parts (one per member)
    split = models.CharField(max_length=8, choices=Split.choices)
    audience = models.CharField(max_length=12, choices=Audience.choices)
    # The community whose members may grab; for an event audience, the event's community; none for buyers.
    community = models.ForeignKey(
        "communities.Community", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    event = models.ForeignKey("events.Event", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Buyers: members who paid for this product between purchase_from and purchase_until.
    product = models.ForeignKey("catalog.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    purchase_from = models.DateTimeField(null=True, blank=True)
    purchase_until = models.DateTimeField(null=True, blank=True)
    # Grabs land in the member's withdrawable balance (AVAILABLE) or in a balance they cannot
    # withdraw (SPENDABLE); copied from the shop's setting when funded, so it never changes later.
    withdrawable = models.BooleanField(default=False)
    # Paid as coupons (per pool): each grab issues a 无门槛 coupon of this template worth its part,
    # instead of a wallet credit, and no money moves in the ledger for the packet. None: paid in money.
    coupon_template = models.OneToOneField(
        "coupons.CouponTemplate", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The parts in grab order, drawn when funded (split.py): the n-th grab gets parts_fen[n - 1].
    parts_fen = models.JSONField(default=list)
    starts_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=PacketStatus.choices, default=PacketStatus.FUNDED)
    # Moved only by the consumer's single-statement F() update, under the packet's row lock.
    grabbed_count = models.PositiveIntegerField(default=0)
    grabbed_fen = models.PositiveIntegerField(default=0)
    returned_fen = models.PositiveIntegerField(default=0)  # set once, by the return at expiry
    returned_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "expires_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(count__gte=1) & Q(total_fen__gte=F("count")), name="red_packet_parts"),
            models.CheckConstraint(condition=Q(expires_at__gt=F("starts_at")), name="red_packet_expires_after_start"),
            models.CheckConstraint(condition=Q(grabbed_count__lte=F("count")), name="red_packet_grabs_within_count"),
            models.CheckConstraint(
                condition=Q(grabbed_fen__lte=F("total_fen") - F("returned_fen")), name="red_packet_money_within_pool"
            ),
            models.CheckConstraint(
                condition=Q(audience=Audience.COMMUNITY, community__isnull=False, event__isnull=True)
                | Q(audience=Audience.EVENT, community__isnull=False, event__isnull=False)
                | Q(
                    audience=Audience.BUYERS,
                    community__isnull=True,
                    event__isnull=True,
                    product__isnull=False,
                    purchase_from__lt=F("purchase_until"),
                ),
                name="red_packet_audience",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def pool_key(self) -> str:
        return pool_key(self.pk)

    @property
    def left_count(self) -> int:
        return self.count - self.grabbed_count

    @property
    def as_coupons(self) -> bool:
        return self.coupon_template_id is not None

    @property
    def held_fen(self) -> int:
        """Still in the holding account for this packet: neither grabbed nor returned (none for a
        packet paid as coupons: no money was put in)."""
        return 0 if self.as_coupons else self.total_fen - self.grabbed_fen - self.returned_fen


class RedPacketGrab(models.Model):
    """One member's part of a packet: written by the consumer from the gate's claim, credited to the
    member's wallet in the same transaction (ledger reference ``redpacket:grab:{claim_id}``)."""

    packet = models.ForeignKey(RedPacket, on_delete=models.PROTECT, related_name="grabs")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField()  # 1 … count, in the order the gate admitted them
    amount_fen = models.PositiveIntegerField()
    claim_id = models.CharField(max_length=64, unique=True)  # the gate's claim: the consumer's idempotency key
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["packet", "member"], name="one_grab_per_member_per_packet"),
            models.UniqueConstraint(fields=["packet", "position"], name="one_grab_per_part"),
            models.CheckConstraint(condition=Q(amount_fen__gte=1), name="red_packet_grab_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.packet_id}#{self.position}"


class RedPacketSettings(models.Model):
    """A shop's red-packet settings (absent: the defaults)."""

    shop = models.OneToOneField("shops.Shop", on_delete=models.CASCADE, related_name="+")
    # Whether grabbed money may be withdrawn (AVAILABLE) or only kept as balance (SPENDABLE).
    withdrawable = models.BooleanField(_("红包可提现"), default=False)
