"""The console's sale form: one Django form, prices typed in yuan (``YuanField``), several sessions
of several items each. A new sale offers ``SESSION_ROWS`` sessions of ``ITEM_ROWS`` items; editing
a sale offers every session and item it has (sales made through the API may have up to
``MAX_SESSIONS`` of ``MAX_ITEMS_PER_SESSION``) plus one empty row of each, so saving never drops one."""

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shequn.catalog.kinds import ProductKind
from shequn.catalog.models import Sku
from shequn.communities.models import Community
from shequn.core.forms import YuanField
from shequn.shops.models import Shop

from .actions import MAX_ITEMS_PER_SESSION, MAX_SESSIONS, ItemInput, SaleInput, SessionInput
from .models import FlashSale

SESSION_ROWS = 3
ITEM_ROWS = 3
MAX_PRICE_FEN = 100_000_000
LOCAL = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
ITEM_FIELDS = ("sku", "price", "quantity", "cap")
# Errors the action reports about a field of the sale itself land next to it; the rest (they name
# the session and the product) above the form.
SALE_FIELDS = {"title", "payment_timeout_minutes", "priority_minutes", "reservation_starts_at"}


def _shape(sale: FlashSale | None) -> tuple[int, int]:
    """(sessions, items per session) the form offers."""
    if sale is None:
        return SESSION_ROWS, ITEM_ROWS
    counts = [session.items.count() for session in sale.sessions.all()]
    sessions = min(MAX_SESSIONS, max(SESSION_ROWS, len(counts) + 1))
    items = min(MAX_ITEMS_PER_SESSION, max(ITEM_ROWS, max(counts, default=0) + 1))
    return sessions, items


class FlashSaleForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("活动名称"), max_length=100)
    description = forms.CharField(
        label=gettext_lazy("活动说明"), required=False, max_length=2000, widget=forms.Textarea
    )
    reservation_starts_at = forms.DateTimeField(label=gettext_lazy("预约开始"), widget=LOCAL)
    payment_timeout_minutes = forms.IntegerField(
        label=gettext_lazy("支付时限（分钟）"), min_value=1, max_value=120, initial=10
    )
    priority_minutes = forms.IntegerField(
        label=gettext_lazy("预约用户优先（分钟）"), min_value=0, max_value=1440, initial=0
    )
    community: forms.ModelChoiceField = forms.ModelChoiceField(
        label=gettext_lazy("仅限社群"),
        queryset=Community.objects.none(),
        required=False,
        empty_label=gettext_lazy("所有人"),
    )

    def __init__(self, *args: Any, shop: Shop, sale: FlashSale | None = None, **kwargs: Any) -> None:
        if sale is not None and not args and "initial" not in kwargs:
            kwargs["initial"] = self.initial_of(sale)
        super().__init__(*args, **kwargs)
        self.session_count, self.item_count = _shape(sale)
        self.fields["community"].queryset = Community.objects.filter(shop=shop)  # type: ignore[attr-defined]
        # Flash sales sell goods only (actions.check_sale): courses, memberships and tickets are not offered.
        skus = (
            Sku.objects.filter(shop=shop, is_active=True, product__kind=ProductKind.GOODS)
            .select_related("product")
            .order_by("product__title", "pk")
        )
        choices = [("", "—")] + [(sku.pk, f"{sku.product.title} {sku.spec}") for sku in skus]
        for s in range(self.session_count):
            first = s == 0
            self.fields[f"session_{s}_starts_at"] = forms.DateTimeField(
                label=_("开抢时间"), widget=LOCAL, required=first
            )
            self.fields[f"session_{s}_ends_at"] = forms.DateTimeField(label=_("结束时间"), widget=LOCAL, required=first)
            for row in range(self.item_count):
                prefix = f"session_{s}_item_{row}"
                self.fields[f"{prefix}_sku"] = forms.TypedChoiceField(
                    label=_("商品"), choices=choices, coerce=int, required=first and row == 0, empty_value=None
                )
                self.fields[f"{prefix}_price"] = YuanField(label=_("秒杀价"), required=False, max_fen=MAX_PRICE_FEN)
                self.fields[f"{prefix}_quantity"] = forms.IntegerField(label=_("数量"), required=False, min_value=0)
                self.fields[f"{prefix}_cap"] = forms.IntegerField(
                    label=_("每人限购"), required=False, min_value=0, initial=1
                )

    def sale_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.base_fields]

    def sessions(self) -> list[dict[str, Any]]:
        """For the template: each session's time fields and item rows."""
        return [
            {
                "number": s + 1,
                "starts_at": self[f"session_{s}_starts_at"],
                "ends_at": self[f"session_{s}_ends_at"],
                "rows": [
                    [self[f"session_{s}_item_{row}_{name}"] for name in ITEM_FIELDS] for row in range(self.item_count)
                ],
            }
            for s in range(self.session_count)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for s in range(1, self.session_count):
            has_items = any(data.get(f"session_{s}_item_{row}_sku") for row in range(self.item_count))
            has_times = data.get(f"session_{s}_starts_at") or data.get(f"session_{s}_ends_at")
            if (has_items or has_times) and not (
                data.get(f"session_{s}_starts_at") and data.get(f"session_{s}_ends_at")
            ):
                self.add_error(
                    f"session_{s}_starts_at", _("第 %(number)s 场请填写开抢时间和结束时间") % {"number": s + 1}
                )
            elif has_times and not has_items:
                self.add_error(f"session_{s}_starts_at", _("第 %(number)s 场至少需要一件商品") % {"number": s + 1})
        return data

    def to_input(self) -> SaleInput:
        data = self.cleaned_data
        sessions = []
        for s in range(self.session_count):
            if not data.get(f"session_{s}_starts_at"):
                continue
            items = []
            for row in range(self.item_count):
                prefix = f"session_{s}_item_{row}"
                if not data.get(f"{prefix}_sku"):
                    continue
                cap = data.get(f"{prefix}_cap")
                items.append(
                    ItemInput(
                        sku_id=data[f"{prefix}_sku"],
                        flash_price_fen=data.get(f"{prefix}_price") or 0,
                        quantity=data.get(f"{prefix}_quantity") or 0,
                        per_person_cap=cap if cap is not None else 1,
                    )
                )
            sessions.append(
                SessionInput(
                    starts_at=data[f"session_{s}_starts_at"], ends_at=data[f"session_{s}_ends_at"], items=items
                )
            )
        community = data.get("community")
        return SaleInput(
            title=data["title"],
            description=data.get("description") or "",
            reservation_starts_at=data["reservation_starts_at"],
            payment_timeout_minutes=data["payment_timeout_minutes"],
            priority_minutes=data["priority_minutes"],
            community_id=community.pk if community else None,
            sessions=sessions,
        )

    @staticmethod
    def initial_of(sale: FlashSale) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "title": sale.title,
            "description": sale.description,
            "reservation_starts_at": sale.reservation_starts_at,
            "payment_timeout_minutes": sale.payment_timeout_minutes,
            "priority_minutes": sale.priority_minutes,
            "community": sale.community_id,
        }
        for s, session in enumerate(sale.sessions.prefetch_related("items")):
            initial.update({f"session_{s}_starts_at": session.starts_at, f"session_{s}_ends_at": session.ends_at})
            for row, item in enumerate(session.items.all()):
                prefix = f"session_{s}_item_{row}"
                initial.update(
                    {
                        f"{prefix}_sku": item.sku_id,
                        f"{prefix}_price": item.flash_price_fen,
                        f"{prefix}_quantity": item.quantity,
                        f"{prefix}_cap": item.per_person_cap,
                    }
                )
        return initial

    def show_error(self, message: str, field: str | None) -> None:
        """A ``DomainError`` from the action: next to the sale field it names, else above the form
        (item and session messages name the session and the product)."""
        if field == "community_id":
            field = "community"
        self.add_error(field if field in SALE_FIELDS or field == "community" else None, message)
