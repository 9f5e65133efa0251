"""Forms of the fulfilment pages. Rules live in actions; a form only parses."""

from django import forms
from django.utils.translation import gettext_lazy


class WeightRecordForm(forms.Form):
    """The actual weight of a weight-priced order line, whole line, in integer grams."""

    actual_grams = forms.IntegerField(
        label=gettext_lazy("实重（克）"),
        min_value=1,
        max_value=10_000_000,
        error_messages={
            "required": gettext_lazy("请填写实际重量（克）"),
            "invalid": gettext_lazy("实际重量须为整数克，如 525"),
            "min_value": gettext_lazy("实际重量须大于 0 克"),
            "max_value": gettext_lazy("实际重量太大了，请检查是否输错"),
        },
    )
