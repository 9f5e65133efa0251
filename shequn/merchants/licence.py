"""The unified social credit code (统一社会信用代码) of GB 32100-2015, checked by its check digit.

18 characters from a 31-character alphabet (digits and capitals without I, O, S, V, Z):
registration authority (1), organisation type (1), administrative region (6 digits),
organisation code (9) and a check character computed over the first 17.
"""

from django.utils.translation import gettext as _

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# Weight of position i (0-based) is 3**i mod 31.
WEIGHTS = tuple(pow(3, position, 31) for position in range(17))
LENGTH = 18


def normalise(raw: str) -> str:
    """What people type, as the code is written: no spaces, capitals."""
    return "".join((raw or "").split()).upper()


def check_character(first17: str) -> str:
    """The 18th character for the first 17: 31 - (Σ value × weight mod 31), 31 written as 0."""
    total = sum(ALPHABET.index(character) * weight for character, weight in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def licence_problem(code: str) -> str | None:
    """Why ``code`` (normalised) is not a valid unified social credit code; None when it is."""
    if len(code) != LENGTH:
        return _("统一社会信用代码应为 %(length)s 位（当前 %(code)s 位）") % {"length": LENGTH, "code": len(code)}
    if any(character not in ALPHABET for character in code):
        return _("统一社会信用代码只含数字和大写字母（不含 I、O、S、V、Z）")
    if not code[2:8].isdigit():
        return _("统一社会信用代码第 3–8 位是行政区划码，应为数字")
    if check_character(code[:17]) != code[17]:
        return _("统一社会信用代码校验位不正确，请核对后重新输入")
    return None
