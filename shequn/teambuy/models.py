"""Team buys (拼团): a SKU offered at a team price to teams of N real members.

A team only ever holds members who joined themselves and ordered; there are no robots,
"virtual" members or staff fill-ins. ``seats_taken`` counts live members (pending or paid)
and only moves by single conditional UPDATEs; the database refuses more than ``team_size``.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from .enums import MemberStatus, TeamStatus


class TeamOffer(models.Model):
    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=60)
    team_size = models.PositiveSmallIntegerField()  # N, 2..10
    team_price_fen = models.PositiveIntegerField()  # below the SKU's shelf price
    time_limit_hours = models.PositiveSmallIntegerField(default=24)  # 1..72
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)  # no new teams after this
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(team_size__gte=2, team_size__lte=10), name="team_offer_size_2_to_10"),
            models.CheckConstraint(condition=Q(team_price_fen__gte=1), name="team_offer_price_positive"),
            models.CheckConstraint(
                condition=Q(time_limit_hours__gte=1, time_limit_hours__lte=72), name="team_offer_limit_1_to_72h"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Team(models.Model):
    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    offer = models.ForeignKey(TeamOffer, on_delete=models.PROTECT, related_name="teams")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=TeamStatus.choices, default=TeamStatus.FORMING)
    team_size = models.PositiveSmallIntegerField()  # copied from the offer when opened
    team_price_fen = models.PositiveIntegerField()  # copied from the offer when opened
    seats_taken = models.PositiveSmallIntegerField(default=0)  # live members: pending + paid
    paid_count = models.PositiveSmallIntegerField(default=0)
    expires_at = models.DateTimeField()
    succeeded_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "expires_at"], name="team_status_expiry")]
        constraints = [
            models.CheckConstraint(condition=Q(seats_taken__lte=F("team_size")), name="team_seats_within_size"),
            models.CheckConstraint(condition=Q(paid_count__lte=F("seats_taken")), name="team_paid_within_seats"),
        ]

    def __str__(self) -> str:
        return f"{self.offer.title} #{self.pk}"

    @property
    def seats_left(self) -> int:
        return max(0, self.team_size - self.seats_taken)


class TeamMember(models.Model):
    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    order = models.OneToOneField("orders.Order", on_delete=models.PROTECT, related_name="+")
    is_opener = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=MemberStatus.choices, default=MemberStatus.PENDING)
    joined_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [
            # One live membership per member per team (the opener cannot join again either).
            models.UniqueConstraint(
                fields=["team", "user"],
                condition=Q(status__in=[MemberStatus.PENDING, MemberStatus.PAID]),
                name="one_live_membership_per_team",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.team_id}:{self.user_id}"
