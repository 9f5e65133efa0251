from django.conf import settings
from django.db import models

from .enums import ChannelKind, MemberRole, MemberStatus


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

    class Meta:
        constraints = [models.UniqueConstraint(fields=["community", "user"], name="unique_community_member")]
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
