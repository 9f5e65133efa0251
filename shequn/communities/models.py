from django.conf import settings
from django.db import models

from .enums import ChannelKind, MemberRole, MemberStatus, SubGroupKind


class Community(models.Model):
    """A member group of a shop (a WeChat-style group). A later issue adds paid membership."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="communities")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    cover = models.ImageField(upload_to="communities/", blank=True)
    # Secret part of the invite link /c/join/<invite_code>; rotating it kills old links.
    invite_code = models.CharField(max_length=32, unique=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "communities"

    def __str__(self) -> str:
        return self.name


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
        indexes = [models.Index(fields=["community", "status"], name="membership_community_status")]
        ordering = ["-joined_at"]


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
