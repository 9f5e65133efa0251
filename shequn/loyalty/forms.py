"""The card's forms: one Django form per page action, yuan typed through ``YuanField``."""

from collections.abc import Mapping, Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from shequn.catalog.models import Sku
from shequn.core.forms import YuanField
from shequn.coupons.models import CouponTemplate
from shequn.shops.models import Shop

from .actions import MAX_POINTS_PER_YUAN, LevelInput, ProgramInput
from .models import LoyaltyProgram, MemberLevel


class DomainErrorsForm(forms.Form):
    def show_error(self, message: str, field: str | None) -> None:
        """A ``DomainError`` from the action, next to the field it names (else above the form)."""
        name = {"growth_fen": "growth", "birthday_coupon_id": "birthday_coupon"}.get(field or "", field)
        self.add_error(name if name in self.fields else None, message)


class BirthdayForm(forms.Form):
    birthday = forms.DateField(label=_("生日"), widget=forms.DateInput(attrs={"type": "date"}))


class ProgramForm(DomainErrorsForm):
    is_open = forms.BooleanField(label=_("会员可开通会员卡"), required=False, initial=True)
    points_per_yuan = forms.IntegerField(
        label=_("每消费 ¥1 获得积分"), min_value=0, max_value=MAX_POINTS_PER_YUAN, initial=1
    )
    points_per_yuan_off = forms.IntegerField(label=_("多少积分抵 ¥1"), min_value=1, max_value=10_000, initial=100)
    redeem_cap_percent = forms.IntegerField(
        label=_("积分最多抵商品金额的百分之几"), min_value=0, max_value=100, initial=20
    )
    expire_yearly = forms.BooleanField(label=_("每年获得的积分于次年年底过期"), required=False, initial=True)

    def __init__(self, *args: Any, program: LoyaltyProgram | None = None, **kwargs: Any) -> None:
        if program is not None and not args:
            kwargs["initial"] = {name: getattr(program, name) for name in self.base_fields}
        super().__init__(*args, **kwargs)

    def to_input(self) -> ProgramInput:
        return ProgramInput(**self.cleaned_data)


class LevelForm(DomainErrorsForm):
    name = forms.CharField(label=_("等级名称"), max_length=20)
    growth = YuanField(label=_("成长值门槛（累计实付未退款，元）"))
    discount_percent = forms.IntegerField(
        label=_("折扣（%，95 即 9.5 折，100 不打折）"), min_value=1, max_value=100, initial=100
    )
    free_shipping = forms.BooleanField(label=_("包邮"), required=False)
    birthday_coupon = forms.ModelChoiceField(
        label=_("生日礼券"), queryset=CouponTemplate.objects.none(), required=False, empty_label=_("不送")
    )

    def __init__(self, *args: Any, shop: Shop, level: MemberLevel | None = None, **kwargs: Any) -> None:
        if level is not None and not args:
            kwargs["initial"] = {
                "name": level.name,
                "growth": level.growth_fen,
                "discount_percent": level.discount_percent,
                "free_shipping": level.free_shipping,
                "birthday_coupon": level.birthday_coupon_id,
            }
        super().__init__(*args, **kwargs)
        self.fields["birthday_coupon"].queryset = CouponTemplate.objects.filter(shop=shop).order_by("-id")  # type: ignore[attr-defined]

    def to_input(self) -> LevelInput:
        data = self.cleaned_data
        coupon = data.get("birthday_coupon")
        return LevelInput(
            name=data["name"],
            growth_fen=data["growth"],
            discount_percent=data["discount_percent"],
            free_shipping=data["free_shipping"],
            birthday_coupon_id=coupon.pk if coupon else None,
        )


class LevelPricesForm(forms.Form):
    """The level's price for each of ``skus`` (``sku_<id>``, in yuan; empty: none)."""

    def __init__(self, *args: Any, skus: Sequence[Sku], prices: Mapping[int, int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for sku in skus:
            self.fields[f"sku_{sku.pk}"] = YuanField(
                label=f"{sku.product.title} {sku.spec}", required=False, initial=prices.get(sku.pk)
            )
        self.skus = skus

    def to_prices(self) -> dict[int, int | None]:
        return {sku.pk: self.cleaned_data.get(f"sku_{sku.pk}") for sku in self.skus}


class CategoryRateForm(forms.Form):
    category_id = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    points_per_yuan = forms.IntegerField(
        label=_("每 ¥1 积分"), min_value=0, max_value=MAX_POINTS_PER_YUAN, required=False
    )


class ShopItemForm(forms.Form):
    """A coupon offered in the points shop for a number of points."""

    coupon_template = forms.ModelChoiceField(label=_("优惠券"), queryset=CouponTemplate.objects.none())
    points = forms.IntegerField(label=_("兑换所需积分"), min_value=1, max_value=10_000_000)
    is_active = forms.BooleanField(label=_("上架"), required=False, initial=True)

    def __init__(self, *args: Any, shop: Shop, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["coupon_template"].queryset = CouponTemplate.objects.filter(shop=shop).order_by("-id")  # type: ignore[attr-defined]
