from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models


class UserManager(BaseUserManager["User"]):
    def create_user(self, username: str, password: str | None = None, **fields: object) -> "User":
        user = self.model(username=username, **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, username: str, password: str | None = None, **fields: object) -> "User":
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(username, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Members sign in with phone + one-time code; staff with username + password.

    ``is_staff`` here means platform staff (Django admin); shop staff are ``StaffMember`` rows.
    """

    username = models.CharField(max_length=64, unique=True)
    phone = models.CharField(max_length=20, unique=True, null=True, blank=True)
    nickname = models.CharField(max_length=64, blank=True)
    avatar = models.ImageField(upload_to="avatars/", blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(auto_now_add=True)
    # The language chosen with the language switch; texts sent later (SMS, inbox, subscribe
    # messages) are rendered in it (shequn.core.i18n.in_language_of).
    language = models.CharField(max_length=16, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE)

    objects = UserManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    def __str__(self) -> str:
        return self.nickname or self.username

    def save(self, *args: Any, **kwargs: Any) -> None:
        changed = not self._state.adding
        super().save(*args, **kwargs)
        if changed:  # API requests keep their caller cached (accounts.auth): they must see this row
            from .auth import forget_user_tokens  # here: auth imports this module

            forget_user_tokens(self.pk)

    @property
    def display_name(self) -> str:
        return self.nickname or self.username


class OtpCode(models.Model):
    """A one-time sign-in code. Only its hash is stored; single use; 10-minute expiry."""

    phone = models.CharField(max_length=20, db_index=True)
    code_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"OTP #{self.pk}"


class ApiToken(models.Model):
    """Bearer token for the API. Only the SHA-256 of the token is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name or f"token #{self.pk}"


class Address(models.Model):
    """A delivery address. Region codes are GB/T 2260 (6 digits) from the region package."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="addresses")
    recipient = models.CharField(max_length=32)
    phone = models.CharField(max_length=20)
    province_code = models.CharField(max_length=6)
    province = models.CharField(max_length=32)
    city_code = models.CharField(max_length=6)
    city = models.CharField(max_length=32)
    district_code = models.CharField(max_length=6, blank=True)
    district = models.CharField(max_length=32, blank=True)
    detail = models.CharField(max_length=200)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_default", "-created_at", "-id"]
        constraints = [
            # A member has at most one default address; actions keep it exactly one.
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(is_default=True), name="one_default_address_per_user"
            )
        ]

    def __str__(self) -> str:
        return "".join(self.region_parts) + self.detail

    @property
    def region_parts(self) -> list[str]:
        """Province, city, district, with a municipality's city (上海市 上海市) said once."""
        city = "" if self.city == self.province else self.city
        return [part for part in (self.province, city, self.district) if part]

    @property
    def region_text(self) -> str:
        return " ".join(self.region_parts)
