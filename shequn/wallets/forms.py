"""The withdrawal form of the holder's wallet page."""

from django import forms
from django.utils.translation import gettext_lazy

from shequn.core.forms import YuanField


class WithdrawalForm(forms.Form):
    amount = YuanField(label=gettext_lazy("提现金额（元）"))
