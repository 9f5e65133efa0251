"""Reading the campaign form of the console and the leader console into ``CampaignInput``.

Prices are typed in yuan ("59.00"); tiers as "件数:价格" pairs separated by commas
("50:49.00, 100:45.00"). Item rows are ``item-<n>-sku``, ``-price``, ``-stock``, ``-cap``, ``-tiers``.
"""

from datetime import date, datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.core.money import InvalidAmount, format_yuan_input, parse_yuan

from .actions import CampaignInput, ItemInput, TierInput
from .errors import CampaignInvalid
from .models import Campaign

ITEM_ROWS = 5
MAX_PRICE_FEN = 100_000_000  # ¥1,000,000 a unit: above that it is a typo


def _bad(message: str, field: str) -> CampaignInvalid:
    return CampaignInvalid(message, details={"field": field})


def _price_fen(text: str, field: str) -> int:
    """Read by ``core.money.parse_yuan``; its message is shown next to ``field``."""
    try:
        return parse_yuan(text, max_fen=MAX_PRICE_FEN)
    except InvalidAmount as error:
        raise _bad(error.message, field) from None


def _int(text: str, field: str, *, blank: int | None = None) -> int | None:
    text = (text or "").strip()
    if not text:
        return blank
    try:
        return int(text)
    except ValueError:
        raise _bad(_("请输入整数"), field) from None


def _moment(text: str, field: str, label: str) -> datetime:
    try:
        parsed = datetime.fromisoformat((text or "").strip())
    except ValueError:
        raise _bad(_("请填写%(label)s") % {"label": label}, field) from None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def _day(text: str) -> date:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        raise _bad(_("请填写提货日期"), "pickup_date") from None


def parse_tiers(text: str) -> list[TierInput]:
    tiers = []
    for part in (text or "").replace("，", ",").replace("：", ":").split(","):
        if not part.strip():
            continue
        quantity, _colon, price = part.partition(":")
        count = _int(quantity, "items")
        if count is None or not price.strip():
            raise _bad(_("阶梯价格式如 50:49.00（满 50 件每件 ¥49.00）"), "items")
        tiers.append(TierInput(min_quantity=count, price_fen=_price_fen(price, "items")))
    return tiers


def parse_campaign(data: Any) -> CampaignInput:
    items = []
    for row in range(ITEM_ROWS):
        sku_id = _int(data.get(f"item-{row}-sku", ""), "items")
        if not sku_id:
            continue
        items.append(
            ItemInput(
                sku_id=sku_id,
                price_fen=_price_fen(data.get(f"item-{row}-price", ""), "items"),
                stock_limit=_int(data.get(f"item-{row}-stock", ""), "items", blank=0) or 0,
                per_person_cap=_int(data.get(f"item-{row}-cap", ""), "items"),
                tiers=parse_tiers(data.get(f"item-{row}-tiers", "")),
            )
        )
    return CampaignInput(
        title=data.get("title", ""),
        description=data.get("description", ""),
        starts_at=_moment(data.get("starts_at", ""), "starts_at", _("开始时间")),
        deadline=_moment(data.get("deadline", ""), "deadline", _("截止时间")),
        pickup_date=_day(data.get("pickup_date", "")),
        min_total_units=_int(data.get("min_total_units", ""), "min_total_units", blank=0) or 0,
        items=items,
    )


def initial_from(campaign: Campaign | None) -> dict[str, str]:
    """Form values of an existing campaign (or sensible defaults for a new one)."""
    if campaign is None:
        now = timezone.localtime()
        deadline = (now + timedelta(days=1)).replace(hour=20, minute=0, second=0, microsecond=0)
        return {
            "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
            "deadline": deadline.strftime("%Y-%m-%dT%H:%M"),
            "pickup_date": (deadline + timedelta(days=1)).date().isoformat(),
            "min_total_units": "0",
        }
    values = {
        "title": campaign.title,
        "description": campaign.description,
        "starts_at": timezone.localtime(campaign.starts_at).strftime("%Y-%m-%dT%H:%M"),
        "deadline": timezone.localtime(campaign.deadline).strftime("%Y-%m-%dT%H:%M"),
        "pickup_date": campaign.pickup_date.isoformat(),
        "min_total_units": str(campaign.min_total_units),
    }
    for row, item in enumerate(campaign.items.all()):
        values[f"item-{row}-sku"] = str(item.sku_id)
        values[f"item-{row}-price"] = format_yuan_input(item.price_fen)
        values[f"item-{row}-stock"] = str(item.stock_limit)
        values[f"item-{row}-cap"] = "" if item.per_person_cap is None else str(item.per_person_cap)
        values[f"item-{row}-tiers"] = ", ".join(
            f"{tier.min_quantity}:{format_yuan_input(tier.price_fen)}" for tier in item.tiers.all()
        )
    return values


def item_rows(values: Any) -> list[dict[str, Any]]:
    """The item rows of the form with what was typed (or saved), for re-rendering."""
    return [
        {
            "n": row,
            "sku": str(values.get(f"item-{row}-sku", "") or ""),
            "price": values.get(f"item-{row}-price", "") or "",
            "stock": values.get(f"item-{row}-stock", "") or "",
            "cap": values.get(f"item-{row}-cap", "") or "",
            "tiers": values.get(f"item-{row}-tiers", "") or "",
        }
        for row in range(ITEM_ROWS)
    ]
