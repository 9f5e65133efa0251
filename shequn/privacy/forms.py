from django import forms
from django.utils.translation import gettext_lazy


class DeletionCodeForm(forms.Form):
    """The code texted to the member, typed to confirm the deletion."""

    code = forms.CharField(max_length=16, error_messages={"required": gettext_lazy("请输入短信验证码")})
