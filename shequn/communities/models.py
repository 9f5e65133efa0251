from django.conf import settings
from django.db import models

from .enums import ChannelKind, JoinPolicy, JoinRequestStatus, MemberRole, MemberStatus, SubGroupKind, TermKind


class Community(models.Model):
    """A member group of a shop (a WeChat-style group): free or paid, with its joining rules.

    A paid community sells its fee through ``fee_product`` (a catalog product of kind
    ``membership`` with two SKUs, 入会 and 续费), bought through the ordinary checkout; see
    ``communities.membership`` for the rules the orders app calls (ADR 0003).
    """

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="communities")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    cover = models.ImageField(upload_to="communities/", blank=True)
    # Secret part of the invite link /c/join/<invite_code>; rotating it kills old links.
    invite_code = models.CharField(max_length=32, unique=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    join_policy = models.CharField(max_length=16, choices=JoinPolicy.choices, default=JoinPolicy.OPEN)
    fee_fen = models.PositiveIntegerField(default=0)  # 0 = free
    renewal_fee_fen = models.PositiveIntegerField(null=True, blank=True)  # None = same as the fee
    validity_days = models.PositiveIntegerField(null=True, blank=True)  # None = never expires (free only)
    capacity = models.PositiveIntegerField(null=True, blank=True)  # most current members; None = no limit
    refund_days = models.PositiveSmallIntegerField(default=0)  # full refund within N days of paying; 0 = none
    renewal_reminder_days = models.PositiveSmallIntegerField(default=7)  # remind this many days before expiry
    fee_product = models.OneToOneField(
        "catalog.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="membership_community"
    )

    class Meta:
        verbose_name_plural = "communities"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(fee_fen=0) | models.Q(validity_days__gt=0), name="paid_community_has_validity"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_paid(self) -> bool:
        return self.fee_fen > 0

    @property
    def renewal_price_fen(self) -> int:
        return self.renewal_fee_fen if self.renewal_fee_fen is not None else self.fee_fen


class Channel(models.Model):
    """An attribution channel (渠道码) of a community: its join link carries ``?ch=<code>``."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="channels")
    name = models.CharField(max_length=60)
    # Short URL-safe code, unique within the community (shown in the link and QR code).
    code = models.CharField(max_length=32)
    kind = models.CharField(max_length=16, choices=ChannelKind.choices, default=ChannelKind.POSTER)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["community", "code"], name="unique_channel_code")]
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.name


class SubGroup(models.Model):
    """A sub-group of a community (by city, neighbourhood or interest; a city chapter is one too).

    ``member_count`` is kept by single-statement ``F()`` updates so a full group refuses the
    501st member even under concurrent joins.
    """

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="sub_groups")
    name = models.CharField(max_length=60)
    kind = models.CharField(max_length=16, choices=SubGroupKind.choices, default=SubGroupKind.CITY)
    city = models.CharField(max_length=40, blank=True)
    capacity = models.PositiveIntegerField(default=500)  # like a WeChat group
    member_count = models.PositiveIntegerField(default=0)
    # The full group this one was split from (the operator moved its newest half here).
    split_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(member_count__lte=models.F("capacity")), name="sub_group_within_capacity"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_full(self) -> bool:
        return self.member_count >= self.capacity


class Tag(models.Model):
    """A manual member tag of one community (e.g. 老客户, 团长候选)."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=20)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["community", "name"], name="unique_tag_name")]

    def __str__(self) -> str:
        return self.name


class CommunityMembership(models.Model):
    """One user in one community. Rows are never deleted on removal: status keeps the history."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="community_memberships")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The channel (渠道码) whose link the member joined through, if any.
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="memberships")
    role = models.CharField(max_length=16, choices=MemberRole.choices, default=MemberRole.MEMBER)
    status = models.CharField(max_length=16, choices=MemberStatus.choices, default=MemberStatus.ACTIVE)
    # Muted members read but cannot post until this time; None = not muted.
    muted_until = models.DateTimeField(null=True, blank=True)
    joined_at = models.DateTimeField(auto_now_add=True)
    # Access ends at this instant (paid membership); None = never. Members-only checks compare it
    # with the clock, so access ends exactly at expiry even before the sweeper marks them former.
    expires_at = models.DateTimeField(null=True, blank=True)
    # At most one sub-group per community, by construction (one membership row per community).
    sub_group = models.ForeignKey(
        SubGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="memberships"
    )
    sub_group_joined_at = models.DateTimeField(null=True, blank=True)
    is_sub_group_admin = models.BooleanField(default=False)
    tags = models.ManyToManyField(Tag, blank=True, related_name="memberships")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["community", "user"], name="unique_community_member"),
            # Exactly one owner: the database refuses a second.
            models.UniqueConstraint(
                fields=["community"], condition=models.Q(role="owner"), name="one_owner_per_community"
            ),
        ]
        indexes = [
            # Member counts (status and expiry decide who counts) read the index alone.
            models.Index(fields=["community", "status", "expires_at"], name="membership_community_current"),
            # The console's member list, newest first, one page without sorting every member.
            models.Index(fields=["community", "-joined_at", "-id"], name="membership_community_newest"),
            models.Index(fields=["status", "expires_at"], name="membership_status_expiry"),
        ]
        ordering = ["-joined_at"]


class MemberCount(models.Model):
    """How many memberships of a community have status active, so a page reads the member count in
    constant time instead of counting rows (2 ms at 10,000 members on PostgreSQL, growing).

    Kept by database triggers (migration 0006) on every insert, update and delete of a membership,
    whatever made it: an action, the expiry sweep, a bulk import, a cascade. Python never writes
    it, so no stale ``save()`` can overwrite it, and concurrent joins add up exactly (each change is
    one ``active = active + n`` under the row's lock). Current members are these minus the active
    rows already past their expiry that the sweeper has not marked former yet
    (``selectors.active_member_count``): a short range of an index.

    A later migration that alters the membership table must keep the triggers: on SQLite Django
    alters a table by building a new one, which drops them (test_member_count.py then fails)."""

    community = models.OneToOneField(Community, primary_key=True, on_delete=models.CASCADE, related_name="+")
    active = models.IntegerField(default=0)


class RecruitmentWindow(models.Model):
    """A period in which new members may join (e.g. once a year). Without any window a community
    recruits all the time; renewals by current and former members are allowed at any time."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="recruitment_windows")
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    note = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["opens_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes_at__gt=models.F("opens_at")), name="window_closes_after_opening"
            )
        ]

    def __str__(self) -> str:
        return f"{self.opens_at:%Y-%m-%d} – {self.closes_at:%Y-%m-%d}"


class MembershipTerm(models.Model):
    """One paid period of a membership (one order line). Renewals extend from the later of now and
    the current expiry; the refund rule looks at the latest term. One term per order line."""

    membership = models.ForeignKey(CommunityMembership, on_delete=models.CASCADE, related_name="terms")
    order_id = models.BigIntegerField()  # orders.Order (a higher app: by id, not by foreign key)
    line_id = models.BigIntegerField(unique=True)  # orders.OrderLine; paid() is idempotent on it
    kind = models.CharField(max_length=16, choices=TermKind.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    amount_fen = models.PositiveIntegerField()
    paid_at = models.DateTimeField()
    reminded_at = models.DateTimeField(null=True, blank=True)  # the renewal reminder, at most once per term
    refunded_at = models.DateTimeField(null=True, blank=True)  # the fee went back; the term ended then

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["ends_at", "reminded_at"], name="term_reminder_due")]


class JoinRequest(models.Model):
    """Who wants to join, invited by whom and through which channel, recorded before payment or
    approval so the membership created later carries the attribution. One row per person and
    community; a new application reuses it (the first attribution is kept)."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="join_requests")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    inviter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    message = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=JoinRequestStatus.choices, default=JoinRequestStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["community", "user"], name="unique_join_request")]
        indexes = [models.Index(fields=["community", "status", "created_at"], name="join_request_queue")]


class Post(models.Model):
    """A staff post in a community feed; may carry product cards with a buy button."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="posts")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    image = models.ImageField(upload_to="posts/%Y/%m/", blank=True)
    is_pinned = models.BooleanField(default=False)
    is_published = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    products = models.ManyToManyField("catalog.Product", through="PostProduct", related_name="posts")

    class Meta:
        ordering = ["-is_pinned", "-created_at", "-id"]

    def __str__(self) -> str:
        return self.body[:40]


class PostProduct(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE)
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["post", "product"], name="unique_product_per_post")]
