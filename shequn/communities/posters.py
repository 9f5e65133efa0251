"""Share posters: a PNG with the community name, the inviter and the invite QR code.

Drawn with Pillow in Noto Sans CJK (Debian's fonts-noto-cjk); the QR code is made by
segno from the same link ``links.invite_url`` gives, so a scan joins with attribution.
No reward is promised or shown for sharing (RULES.md: promotions).
"""

import io
from functools import lru_cache
from pathlib import Path

from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageFont

from shequn.core.errors import DomainError

from .links import qr_png

POSTER_SIZE = (750, 1334)  # the 9:16 canvas WeChat Moments shows full-screen
QR_SIZE = 360
QR_TOP = 700
FONT_CANDIDATES = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto-cjk/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc"),
)
FONT_SEARCH_ROOT = Path("/usr/share/fonts")
# Index of Simplified Chinese ("Noto Sans CJK SC") inside the .ttc collection.
SC_FACE_INDEX = 2

BACKGROUND = (246, 248, 250)
BRAND = (7, 193, 96)
INK = (25, 25, 25)
MUTED = (110, 110, 110)


class PosterFontMissing(DomainError):
    status = 500
    code = "poster_font_missing"


@lru_cache(maxsize=1)
def cjk_font_path() -> Path:
    """The Noto Sans CJK collection; a clear error when the system package is absent."""
    for candidate in FONT_CANDIDATES:
        if candidate.is_file():
            return candidate
    if FONT_SEARCH_ROOT.is_dir():
        found = sorted(FONT_SEARCH_ROOT.rglob("NotoSansCJK-Regular.ttc"))
        if found:
            return found[0]
    raise PosterFontMissing(
        _("生成海报需要中文字体：请安装 Debian 软件包 fonts-noto-cjk（apt-get install fonts-noto-cjk）"),
        code="poster_font_missing",
    )


def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(cjk_font_path()), size=size, index=SC_FACE_INDEX)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int, max_lines: int) -> list[str]:
    """Break ``text`` character by character (Chinese has no spaces) into at most ``max_lines``."""
    lines: list[str] = []
    line = ""
    for char in text:
        if draw.textlength(line + char, font=font) > width:
            lines.append(line)
            line = char
            if len(lines) == max_lines:
                break
        else:
            line += char
    else:
        lines.append(line)
        return lines
    lines[-1] = lines[-1][:-1] + "…"
    return lines


def _centered(draw: ImageDraw.ImageDraw, y: int, text: str, font: ImageFont.FreeTypeFont, fill: tuple) -> int:
    width = draw.textlength(text, font=font)
    draw.text(((POSTER_SIZE[0] - width) / 2, y), text, font=font, fill=fill)
    bbox = font.getbbox(text or "字")
    return y + int(bbox[3]) + 16


def render_poster(*, community_name: str, shop_name: str, inviter_name: str, url: str) -> bytes:
    """The poster PNG for ``url`` (an invite link carrying ?from= and/or &ch=)."""
    image = Image.new("RGB", POSTER_SIZE, BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, POSTER_SIZE[0], 420), fill=BRAND)
    y = 110
    title = _font(56)
    for line in _wrap(draw, community_name, title, POSTER_SIZE[0] - 120, 2):
        y = _centered(draw, y, line, title, (255, 255, 255))
    _centered(draw, max(y + 10, 330), shop_name, _font(30), (230, 255, 240))

    y = 500
    invite_font = _font(38)
    for line in _wrap(
        draw, _("%(inviter_name)s 邀请你加入") % {"inviter_name": inviter_name}, invite_font, POSTER_SIZE[0] - 120, 2
    ):
        y = _centered(draw, y, line, invite_font, INK)

    qr = (
        Image.open(io.BytesIO(qr_png(url, scale=10)))
        .convert("RGB")
        .resize((QR_SIZE, QR_SIZE), Image.Resampling.NEAREST)
    )
    qr_top = QR_TOP
    left = (POSTER_SIZE[0] - QR_SIZE) // 2
    draw.rounded_rectangle((left - 24, qr_top - 24, left + QR_SIZE + 24, qr_top + QR_SIZE + 24), 24, fill="white")
    image.paste(qr, (left, qr_top))
    _centered(draw, qr_top + QR_SIZE + 56, _("长按识别二维码，加入社群"), _font(30), MUTED)

    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
