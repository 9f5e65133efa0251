from django.conf import settings
from django.db import models


class WechatBinding(models.Model):
    """A member's WeChat identity under one official account (appid), kept after a first phone sign-in.

    The phone stays the account's identity; the binding only lets WeChat's browser sign the member
    in, and gives payments the payer's openid. One account per openid, one openid per account and app.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wechat_bindings")
    app_id = models.CharField(max_length=32)
    openid = models.CharField(max_length=64)
    unionid = models.CharField(max_length=64, blank=True)
    nickname = models.CharField(max_length=64, blank=True)  # only with scope snsapi_userinfo
    created_at = models.DateTimeField(auto_now_add=True)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["app_id", "openid"], name="one_account_per_openid"),
            models.UniqueConstraint(fields=["user", "app_id"], name="one_openid_per_account_and_app"),
        ]

    def __str__(self) -> str:
        return f"WeChat binding #{self.pk}"


class WechatCredential(models.Model):
    """The official account's access token or jsapi_ticket, shared by every web and task process.

    One process renews it at a time, under this row's lock (``client._shared_credential``): WeChat
    limits how often they may be fetched, and a new access token retires the one other processes
    still use. The value is a Fernet token (``core.secrets``), like every credential at rest."""

    app_id = models.CharField(max_length=32)
    name = models.CharField(max_length=16)  # "access_token" or "jsapi_ticket"
    value_encrypted = models.TextField(blank=True)
    expires_at = models.DateTimeField()  # as WeChat said (expires_in), without our margin

    class Meta:
        constraints = [models.UniqueConstraint(fields=["app_id", "name"], name="one_wechat_credential_per_name")]

    def __str__(self) -> str:
        return f"{self.name} of {self.app_id}"
