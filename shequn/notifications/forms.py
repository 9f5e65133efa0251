from django import forms

from .enums import SubscribeTemplate


class OptOutForm(forms.Form):
    """The member turns one subscribe message template off."""

    template = forms.ChoiceField(choices=SubscribeTemplate.choices)
