"""Campaigns (接龙) of neighbourhood group buying and the members' sign-ups.

A sign-up is one ordinary order (``orders.Order``, goods, picked up at the leader's pickup
point) made at the campaign's prices; this app adds what the order does not know: which
campaign and leader, the sequence number on the live list, and the campaign's own counters.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from .enums import CampaignStatus, SignUpStatus


class Campaign(models.Model):
    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="campaigns")
    title = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Set when a leader created it from the shop's catalog: then only that leader's point takes part.
    created_by_leader = models.ForeignKey(
        "leaders.Leader", null=True, blank=True, on_delete=models.PROTECT, related_name="own_campaigns"
    )
    status = models.CharField(max_length=12, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    starts_at = models.DateTimeField()
    deadline = models.DateTimeField()  # sign-ups close; the campaign succeeds or fails exactly once
    pickup_date = models.DateField()  # when goods arrive at the pickup points
    # Success needs at least this many units signed up and paid across all leaders (0 = none).
    min_total_units = models.PositiveIntegerField(default=0)
    # Paid sign-ups are numbered 1, 2, 3 … in the order their payment landed (gap-free).
    last_sequence = models.PositiveIntegerField(default=0)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    leaders = models.ManyToManyField("leaders.Leader", through="CampaignLeader", related_name="campaigns")

    class Meta:
        ordering = ["-deadline", "-id"]
        indexes = [models.Index(fields=["status", "deadline"], name="campaign_status_deadline")]
        constraints = [
            models.CheckConstraint(condition=Q(deadline__gt=F("starts_at")), name="campaign_deadline_after_start")
        ]

    def __str__(self) -> str:
        return self.title


class CampaignItem(models.Model):
    """One SKU on offer in a campaign, at the campaign price, within a stock limit."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="items")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    price_fen = models.PositiveIntegerField()  # the campaign price (before any tier)
    per_person_cap = models.PositiveIntegerField(null=True, blank=True)
    stock_limit = models.PositiveIntegerField()  # units this campaign may sell
    # Units held by live sign-ups (unpaid or paid); single-statement F() updates keep it exact.
    sold = models.PositiveIntegerField(default=0)
    # Units of confirmed (paid) sign-ups; tiers and the campaign minimum count these.
    paid_units = models.PositiveIntegerField(default=0)
    # The best tier price reached so far (None = none yet). It only ever goes down: once a
    # tier was reached and the difference given back, it is not taken away again.
    tier_price_fen = models.PositiveIntegerField(null=True, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "sku"], name="one_item_per_sku_per_campaign"),
            models.CheckConstraint(condition=Q(sold__lte=F("stock_limit")), name="campaign_item_within_stock"),
            models.CheckConstraint(condition=Q(price_fen__gt=0), name="campaign_price_positive"),
        ]


class CampaignTier(models.Model):
    """A lower price for everyone once the campaign's total units of the item reach ``min_quantity``."""

    item = models.ForeignKey(CampaignItem, on_delete=models.CASCADE, related_name="tiers")
    min_quantity = models.PositiveIntegerField()
    price_fen = models.PositiveIntegerField()

    class Meta:
        ordering = ["min_quantity"]
        constraints = [
            models.UniqueConstraint(fields=["item", "min_quantity"], name="one_price_per_tier"),
            models.CheckConstraint(condition=Q(price_fen__gt=0), name="tier_price_positive"),
        ]


class CampaignLeader(models.Model):
    """A leader taking part in a campaign; the campaign is posted in their community."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE)
    leader = models.ForeignKey("leaders.Leader", on_delete=models.PROTECT)
    # The post announcing the campaign in the leader's community (one per community, shared).
    post = models.ForeignKey("communities.Post", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "leader"], name="one_entry_per_leader")]


class SignUp(models.Model):
    """One member's sign-up: exactly one order, picked up at the leader's point."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="sign_ups")
    leader = models.ForeignKey("leaders.Leader", on_delete=models.PROTECT, related_name="sign_ups")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    order = models.OneToOneField("orders.Order", on_delete=models.PROTECT, related_name="sign_up")
    status = models.CharField(max_length=16, choices=SignUpStatus.choices, default=SignUpStatus.PENDING_PAYMENT)
    sequence = models.PositiveIntegerField(null=True, blank=True)  # set when paid
    units = models.PositiveIntegerField()
    # Money given back because a lower tier price was reached after this sign-up paid.
    tier_refunded_fen = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sequence", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "sequence"], name="unique_sequence_per_campaign"),
        ]
        indexes = [models.Index(fields=["campaign", "status"], name="signup_campaign_status")]


class SignUpLine(models.Model):
    """One campaign item in a sign-up: its order line, the units still wanted and the money given back.

    ``returned_fen`` is every fen this app asked the gateway to give back on the line (fewer
    units, a tier price, a failed campaign); what the member keeps paying is always
    ``paid - returned``, so a second run of any refund step finds nothing left to return.
    """

    sign_up = models.ForeignKey(SignUp, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey(CampaignItem, on_delete=models.PROTECT, related_name="sign_up_lines")
    order_line = models.OneToOneField("orders.OrderLine", on_delete=models.PROTECT, related_name="+")
    units = models.PositiveIntegerField()  # still wanted (reduced by changes; 0 when cancelled)
    unit_price_fen = models.PositiveIntegerField()  # the price paid per unit
    returned_fen = models.PositiveIntegerField(default=0)
    tier_refunded_fen = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["sign_up", "item"], name="one_line_per_item_per_sign_up")]


POOL_OWNER = "jielong"  # the gate's name for this app's pools and claims stream (gate.base.owner_of)


def pool_key(item_id: int) -> str:
    """The admission gate's pool of one campaign item (its stock limit and per-person cap)."""
    return f"{POOL_OWNER}:{item_id}"


class SignUpClaim(models.Model):
    """One claim the admission gate admitted for a campaign item, as the consumer wrote it.

    The unique ``claim_id`` makes the consumer idempotent: a claim delivered twice finds its row.
    A claim became part of ``sign_up``, or could not (``released_reason`` says why, and the gate
    got its units back once, unless the database refused a unit the gate should not have had).
    """

    claim_id = models.CharField(max_length=64, unique=True)
    item = models.ForeignKey(CampaignItem, on_delete=models.PROTECT, related_name="claims")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    units = models.PositiveIntegerField()
    admitted_at = models.DateTimeField()
    sign_up = models.ForeignKey(SignUp, null=True, blank=True, on_delete=models.PROTECT, related_name="claims")
    released_code = models.CharField(max_length=40, blank=True)
    released_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
