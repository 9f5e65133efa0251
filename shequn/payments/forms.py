"""Console forms of the payments app. Secret fields are write-only: never rendered back."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy


class WriteOnlyTextarea(forms.Textarea):
    """A textarea that never puts a value in the page, not even the one just posted."""

    def format_value(self, value: Any) -> None:
        return None


class MerchantAccountForm(forms.Form):
    mchid = forms.CharField(label=gettext_lazy("商户号"), max_length=16)
    appid = forms.CharField(
        label=gettext_lazy("公众号 AppID"), max_length=32, help_text=gettext_lazy("付款人的 openid 所属的公众号")
    )
    merchant_serial = forms.CharField(label=gettext_lazy("商户API证书序列号"), max_length=64)
    merchant_private_key = forms.CharField(
        label=gettext_lazy("商户API私钥"),
        required=False,
        max_length=8000,
        strip=False,
        widget=WriteOnlyTextarea(
            attrs={"rows": 4, "autocomplete": "off", "placeholder": "-----BEGIN PRIVATE KEY-----"}
        ),
        help_text=gettext_lazy("apiclient_key.pem 的内容；留空则保留已保存的私钥"),
    )
    api_v3_key = forms.CharField(
        label=gettext_lazy("APIv3 密钥"),
        required=False,
        max_length=32,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=gettext_lazy("留空则保留已保存的密钥"),
    )


class PlatformKeyForm(forms.Form):
    pem = forms.CharField(
        label=gettext_lazy("平台证书或微信支付公钥"),
        max_length=8000,
        widget=forms.Textarea(
            attrs={"rows": 4, "placeholder": gettext_lazy("-----BEGIN CERTIFICATE----- 或 -----BEGIN PUBLIC KEY-----")}
        ),
    )
    public_key_id = forms.CharField(
        label=gettext_lazy("微信支付公钥ID"),
        required=False,
        max_length=64,
        help_text=gettext_lazy("粘贴公钥时必填（PUB_KEY_ID_ 开头）"),
    )
