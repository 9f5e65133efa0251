from django import forms


class DeletionCodeForm(forms.Form):
    """The code texted to the member, typed to confirm the deletion."""

    code = forms.CharField(max_length=16, error_messages={"required": "请输入短信验证码"})
