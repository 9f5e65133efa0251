"""The withdrawal form of the holder's wallet page."""

from django import forms

from shequn.core.forms import YuanField


class WithdrawalForm(forms.Form):
    amount = YuanField(label="提现金额（元）")
