"""Console forms. Prices are typed in yuan ("35.00") and stored in fen; rules live in actions."""

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shequn.core.forms import YuanField

from .actions import ProductInput, SkuInput
from .models import Category
from .weights import SkuPricing

# A shelf price above ¥10,000,000 is a typo (the bound these forms have always had).
MAX_PRICE_FEN = 1_000_000_000


class ProductForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("商品名称"), max_length=120)
    subtitle = forms.CharField(label=gettext_lazy("副标题"), max_length=200, required=False)
    description = forms.CharField(
        label=gettext_lazy("商品详情"), widget=forms.Textarea(attrs={"rows": 5}), required=False
    )
    category = forms.TypedChoiceField(label=gettext_lazy("分类"), coerce=int, required=False, empty_value=None)
    returnable = forms.BooleanField(
        label=gettext_lazy("支持七天无理由退货（生鲜商品请取消勾选）"), required=False, initial=True
    )
    per_person_cap = forms.IntegerField(label=gettext_lazy("每人限购（件，留空不限）"), min_value=1, required=False)
    position = forms.IntegerField(label=gettext_lazy("排序（小的在前）"), min_value=0, initial=0, required=False)

    def __init__(self, *args: Any, categories: list[Category], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("未分类")), *((c.pk, c.name) for c in categories)]  # type: ignore[attr-defined]

    def to_input(self) -> ProductInput:
        data = self.cleaned_data
        return ProductInput(
            title=data["title"],
            subtitle=data.get("subtitle") or "",
            description=data.get("description") or "",
            category_id=data.get("category"),
            returnable=bool(data.get("returnable")),
            per_person_cap=data.get("per_person_cap"),
            position=data.get("position") or 0,
        )


class SkuRowForm(forms.Form):
    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    spec = forms.CharField(label=gettext_lazy("规格"), max_length=64, required=False)
    price = YuanField(label=gettext_lazy("售价（元）"), max_fen=MAX_PRICE_FEN, required=False)
    list_price = YuanField(label=gettext_lazy("划线价（元）"), max_fen=MAX_PRICE_FEN, required=False)
    member_price = YuanField(label=gettext_lazy("会员价（元）"), max_fen=MAX_PRICE_FEN, required=False)
    stock = forms.IntegerField(label=gettext_lazy("初始库存"), min_value=0, required=False)
    weight_grams = forms.IntegerField(label=gettext_lazy("重量（克）"), min_value=0, required=False)
    is_active = forms.BooleanField(label=gettext_lazy("启用"), required=False, initial=True)
    # Sold by weight: the price per 斤/公斤 and the estimated weight per piece (weight_grams)
    # give the price per piece; catalog.actions computes and validates it.
    pricing = forms.ChoiceField(
        label=gettext_lazy("计价方式"), choices=SkuPricing.choices, initial=SkuPricing.PIECE, required=False
    )
    weight_price = YuanField(label=gettext_lazy("每斤/每公斤单价（元）"), required=False)
    piece_name = forms.CharField(label=gettext_lazy("件的叫法（如 条）"), max_length=4, required=False)

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return (
            not data.get("id")
            and not data.get("spec")
            and data.get("price") is None
            and data.get("weight_price") is None
        )

    def to_input(self) -> SkuInput:
        data = self.cleaned_data
        price = data.get("price")
        pricing = data.get("pricing") or SkuPricing.PIECE
        if pricing != SkuPricing.PIECE:
            price = 0  # computed from the price per weight and the estimated weight
        elif price is None:
            raise forms.ValidationError(_("规格「%(value)s」：请填写售价") % {"value": data.get("spec") or ""})
        return SkuInput(
            id=data.get("id") or None,
            spec=data.get("spec") or "",
            price_fen=price,
            list_price_fen=data.get("list_price"),
            member_price_fen=data.get("member_price"),
            stock=data.get("stock") or 0,
            weight_grams=data.get("weight_grams"),
            is_active=bool(data.get("is_active")),
            pricing=pricing,
            weight_price_fen=data.get("weight_price"),
            piece_name=data.get("piece_name") or "",
        )


SkuFormSet = forms.formset_factory(SkuRowForm, extra=2, max_num=50)
