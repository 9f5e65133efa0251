"""Console forms of the shops app: a page parses its POST with one form, then calls one action."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from shequn.core.errors import DomainError
from shequn.core.pages import field_errors


class DeliverySlotForm(forms.Form):
    date = forms.DateField(label=gettext_lazy("日期"), widget=forms.DateInput(attrs={"type": "date"}))
    starts_at = forms.TimeField(
        label=gettext_lazy("开始"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    ends_at = forms.TimeField(
        label=gettext_lazy("结束"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    capacity = forms.IntegerField(label=gettext_lazy("可约单数"), min_value=1)
    cutoff_at = forms.DateTimeField(
        label=gettext_lazy("截单时间"),
        required=False,
        help_text=gettext_lazy("留空：前一天 20:00"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class DeliverySlotEditForm(forms.Form):
    capacity = forms.IntegerField(label=gettext_lazy("可约单数"), min_value=1)
    cutoff_at = forms.DateTimeField(
        label=gettext_lazy("截单时间"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


def add_domain_error(form: forms.Form, error: DomainError) -> None:
    """Put an action's refusal on the form: per field when it names fields, else on the form."""
    fields: dict[str, Any] = field_errors(error)
    placed = False
    for name, message in fields.items():
        if name in form.fields:
            form.add_error(name, message)
            placed = True
    if not placed:
        form.add_error(None, error.message)
