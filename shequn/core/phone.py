"""Phone numbers: normalised to 11-digit mainland mobiles, shown masked to everyone but the owner."""

import re

from django.utils.translation import gettext as _

from .errors import InvalidInput

_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def normalise_phone(raw: str) -> str:
    digits = re.sub(r"[\s\-()]", "", raw or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if not _MOBILE.match(digits):
        raise InvalidInput(_("请输入正确的 11 位手机号"), code="invalid_phone")
    return digits


def mask_phone(phone: str) -> str:
    """138****1234; anything shorter than 7 characters is fully masked."""
    if not phone:
        return ""
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


def mask_name(name: str) -> str:
    """王** for 王小明: the family name stays, the rest is hidden."""
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)
