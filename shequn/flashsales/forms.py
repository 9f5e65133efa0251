"""The console's sale form: one Django form, prices typed in yuan (``YuanField``); one session of up
to ``ITEM_ROWS`` items per form (the API takes up to 10 sessions)."""

from typing import Any

from django import forms

from shequn.catalog.models import Sku
from shequn.communities.models import Community
from shequn.core.forms import YuanField
from shequn.shops.models import Shop

from .actions import ItemInput, SaleInput, SessionInput
from .models import FlashSale

ITEM_ROWS = 3
MAX_PRICE_FEN = 100_000_000
LOCAL = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class FlashSaleForm(forms.Form):
    title = forms.CharField(label="活动名称", max_length=100)
    description = forms.CharField(label="活动说明", required=False, max_length=2000, widget=forms.Textarea)
    reservation_starts_at = forms.DateTimeField(label="预约开始", widget=LOCAL)
    starts_at = forms.DateTimeField(label="开抢时间", widget=LOCAL)
    ends_at = forms.DateTimeField(label="结束时间", widget=LOCAL)
    payment_timeout_minutes = forms.IntegerField(label="支付时限（分钟）", min_value=1, max_value=120, initial=10)
    priority_minutes = forms.IntegerField(label="预约用户优先（分钟）", min_value=0, max_value=1440, initial=0)
    community: forms.ModelChoiceField = forms.ModelChoiceField(
        label="仅限社群", queryset=Community.objects.none(), required=False, empty_label="所有人"
    )

    def __init__(self, *args: Any, shop: Shop, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = Community.objects.filter(shop=shop)  # type: ignore[attr-defined]
        skus = Sku.objects.filter(shop=shop, is_active=True).select_related("product").order_by("product__title", "pk")
        choices = [("", "—")] + [(sku.pk, f"{sku.product.title} {sku.spec}") for sku in skus]
        for row in range(ITEM_ROWS):
            self.fields[f"item_{row}_sku"] = forms.TypedChoiceField(
                label="商品", choices=choices, coerce=int, required=row == 0, empty_value=None
            )
            self.fields[f"item_{row}_price"] = YuanField(label="秒杀价", required=False, max_fen=MAX_PRICE_FEN)
            self.fields[f"item_{row}_quantity"] = forms.IntegerField(label="数量", required=False, min_value=0)
            self.fields[f"item_{row}_cap"] = forms.IntegerField(
                label="每人限购", required=False, min_value=0, initial=1
            )

    def item_rows(self) -> list[list[Any]]:
        return [
            [self[f"item_{row}_{name}"] for name in ("sku", "price", "quantity", "cap")] for row in range(ITEM_ROWS)
        ]

    def to_input(self) -> SaleInput:
        data = self.cleaned_data
        items = [
            ItemInput(
                sku_id=data[f"item_{row}_sku"],
                flash_price_fen=data[f"item_{row}_price"] or 0,
                quantity=data[f"item_{row}_quantity"] or 0,
                per_person_cap=data[f"item_{row}_cap"] if data[f"item_{row}_cap"] is not None else 1,
            )
            for row in range(ITEM_ROWS)
            if data.get(f"item_{row}_sku")
        ]
        community = data.get("community")
        return SaleInput(
            title=data["title"],
            description=data.get("description") or "",
            reservation_starts_at=data["reservation_starts_at"],
            payment_timeout_minutes=data["payment_timeout_minutes"],
            priority_minutes=data["priority_minutes"],
            community_id=community.pk if community else None,
            sessions=[SessionInput(starts_at=data["starts_at"], ends_at=data["ends_at"], items=items)],
        )

    @classmethod
    def initial_of(cls, sale: FlashSale) -> dict[str, Any]:
        session = sale.sessions.first()
        initial: dict[str, Any] = {
            "title": sale.title,
            "description": sale.description,
            "reservation_starts_at": sale.reservation_starts_at,
            "payment_timeout_minutes": sale.payment_timeout_minutes,
            "priority_minutes": sale.priority_minutes,
            "community": sale.community_id,
        }
        if session is not None:
            initial.update(starts_at=session.starts_at, ends_at=session.ends_at)
            for row, item in enumerate(session.items.all()[:ITEM_ROWS]):
                initial.update(
                    {
                        f"item_{row}_sku": item.sku_id,
                        f"item_{row}_price": item.flash_price_fen,
                        f"item_{row}_quantity": item.quantity,
                        f"item_{row}_cap": item.per_person_cap,
                    }
                )
        return initial

    def show_error(self, message: str, field: str | None) -> None:
        """A ``DomainError`` from the action, next to the field it names (else above the form)."""
        names = {"sku_id": "item_0_sku", "flash_price_fen": "item_0_price", "quantity": "item_0_quantity"}
        names.update({"per_person_cap": "item_0_cap", "sessions": "starts_at", "items": "item_0_sku"})
        target = names.get(field or "", field)
        self.add_error(target if target in self.fields else None, message)
