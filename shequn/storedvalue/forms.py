"""The console's top-up plan form."""

from django import forms
from django.utils.translation import gettext_lazy

from shequn.core.forms import YuanField

from .actions import MAX_BONUS_FEN, MAX_TOP_UP_FEN, PlanInput


class PlanForm(forms.Form):
    principal = YuanField(label=gettext_lazy("充值金额（元）"), min_fen=1, max_fen=MAX_TOP_UP_FEN)
    bonus = YuanField(label=gettext_lazy("赠送金额（元）"), required=False, max_fen=MAX_BONUS_FEN)

    def to_input(self) -> PlanInput:
        return PlanInput(principal_fen=self.cleaned_data["principal"], bonus_fen=self.cleaned_data["bonus"] or 0)
