"""Form fields every app's page forms share."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from .money import MAX_FEN, InvalidAmount, format_yuan_input, parse_yuan


class YuanField(forms.Field):
    """An amount typed in yuan ("35.90", "¥35.9") that cleans to integer fen (3590), or None
    when blank and not required. Reading is ``core.money.parse_yuan`` with its rules and
    messages; ``max_fen``/``min_fen`` narrow its bounds. An int initial shows as "35.90"."""

    default_error_messages = {"required": gettext_lazy("请输入金额")}

    def __init__(self, *, max_fen: int = MAX_FEN, min_fen: int = 0, **kwargs: Any):
        self.max_fen = max_fen
        self.min_fen = min_fen
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal"}))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> int | None:
        try:
            return parse_yuan(value, max_fen=self.max_fen, min_fen=self.min_fen, required=False)
        except InvalidAmount as error:
            raise forms.ValidationError(error.message, code=error.code) from None

    def prepare_value(self, value: Any) -> Any:
        return format_yuan_input(value) if isinstance(value, int) and not isinstance(value, bool) else value
