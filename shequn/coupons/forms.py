"""The console's coupon forms: one Django form each, amounts typed in yuan (``YuanField``)."""

from typing import Any

from django import forms
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from shequn.catalog.kinds import ProductKind
from shequn.catalog.models import Category, Product, Sku
from shequn.communities.models import Community, Tag
from shequn.core.forms import YuanField
from shequn.core.money import format_yuan_input
from shequn.shops.models import Shop

from .actions import MAX_AMOUNT_FEN, MAX_RECIPIENTS, TemplateInput
from .enums import CouponKind, CouponScope, Validity
from .models import CouponTemplate
from .selectors import shop_posts

LOCAL = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class CouponTemplateForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=40)
    kind = forms.ChoiceField(label=_("类型"), choices=CouponKind.choices)
    threshold = YuanField(label=_("门槛（元，满多少可用）"), required=False, max_fen=MAX_AMOUNT_FEN)
    amount = YuanField(label=_("减免金额（元）"), required=False, max_fen=MAX_AMOUNT_FEN)
    percent_off = forms.IntegerField(label=_("折扣力度（%，20 即 8 折）"), required=False, min_value=1, max_value=99)
    cap = YuanField(label=_("最多减免（元，选填）"), required=False, max_fen=MAX_AMOUNT_FEN)
    free_sku = forms.ModelChoiceField(label=_("赠品"), queryset=Sku.objects.none(), required=False)
    scope = forms.ChoiceField(label=_("适用商品"), choices=CouponScope.choices, initial=CouponScope.SHOP)
    categories = forms.ModelMultipleChoiceField(label=_("适用分类"), queryset=Category.objects.none(), required=False)
    products = forms.ModelMultipleChoiceField(label=_("适用商品"), queryset=Product.objects.none(), required=False)
    community = forms.ModelChoiceField(
        label=_("适用人群"), queryset=Community.objects.none(), required=False, empty_label=_("所有人")
    )
    validity = forms.ChoiceField(label=_("有效期"), choices=Validity.choices, initial=Validity.FIXED)
    valid_from = forms.DateTimeField(label=_("生效时间"), widget=LOCAL, required=False)
    valid_until = forms.DateTimeField(label=_("失效时间"), widget=LOCAL, required=False)
    valid_days = forms.IntegerField(label=_("领取后有效天数"), required=False, min_value=1, max_value=365)
    total_quantity = forms.IntegerField(label=_("发放总量（张）"), min_value=1, max_value=1_000_000)
    per_person_limit = forms.IntegerField(label=_("每人限领（张）"), min_value=1, max_value=100, initial=1)
    with_member_prices = forms.BooleanField(label=_("可与会员价同享"), required=False)
    claimable = forms.BooleanField(label=_("会员可在领券中心和帖子中自行领取"), required=False, initial=True)
    welcome_community = forms.ModelChoiceField(
        label=_("作为入群礼发给新成员"), queryset=Community.objects.none(), required=False, empty_label=_("不发")
    )
    is_active = forms.BooleanField(label=_("发放中"), required=False, initial=True)

    # Fields frozen once a member holds one (actions.FROZEN_FIELDS, by this form's names).
    FROZEN = (
        "kind", "threshold", "amount", "percent_off", "cap", "free_sku", "scope", "categories", "products",
        "community", "validity", "valid_from", "valid_until", "valid_days", "per_person_limit", "with_member_prices",
    )  # fmt: skip

    # The action's field names → this form's.
    FIELD_OF = {
        "threshold_fen": "threshold",
        "amount_fen": "amount",
        "cap_fen": "cap",
        "free_sku_id": "free_sku",
        "category_ids": "categories",
        "product_ids": "products",
        "community_id": "community",
        "welcome_community_id": "welcome_community",
    }

    def __init__(self, *args: Any, shop: Shop, template: CouponTemplate | None = None, **kwargs: Any) -> None:
        if template is not None and "initial" not in kwargs:
            # Bound too: a disabled (frozen) field takes its value from here.
            kwargs["initial"] = self.initial_of(template)
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["free_sku"].queryset = Sku.objects.filter(
            shop=shop, is_active=True, product__kind=ProductKind.GOODS
        ).select_related("product")
        fields["free_sku"].label_from_instance = lambda sku: f"{sku.product.title} {sku.spec}"
        fields["categories"].queryset = Category.objects.filter(shop=shop)
        fields["products"].queryset = Product.objects.filter(shop=shop, kind=ProductKind.GOODS)
        fields["community"].queryset = Community.objects.filter(shop=shop)
        fields["welcome_community"].queryset = Community.objects.filter(shop=shop)
        if template is not None and template.issued:
            # Members hold it: what decides its worth is shown, not editable (the action refuses it anyway).
            for name in self.FROZEN:
                fields[name].disabled = True

    def to_input(self) -> TemplateInput:
        data = self.cleaned_data
        return TemplateInput(
            name=data["name"],
            kind=data["kind"],
            total_quantity=data["total_quantity"],
            threshold_fen=data.get("threshold") or 0,
            amount_fen=data.get("amount") or 0,
            percent_off=data.get("percent_off") or 0,
            cap_fen=data.get("cap"),
            free_sku_id=data["free_sku"].pk if data.get("free_sku") else None,
            scope=data["scope"],
            category_ids=[c.pk for c in data.get("categories") or []],
            product_ids=[p.pk for p in data.get("products") or []],
            community_id=data["community"].pk if data.get("community") else None,
            validity=data["validity"],
            valid_from=data.get("valid_from"),
            valid_until=data.get("valid_until"),
            valid_days=data.get("valid_days"),
            per_person_limit=data["per_person_limit"],
            with_member_prices=data.get("with_member_prices", False),
            claimable=data.get("claimable", False),
            welcome_community_id=data["welcome_community"].pk if data.get("welcome_community") else None,
            is_active=data.get("is_active", False),
        )

    @staticmethod
    def initial_of(template: CouponTemplate) -> dict[str, Any]:
        return {
            "name": template.name,
            "kind": template.kind,
            # As typed (yuan), so a disabled field cleans its initial value back to the same fen.
            "threshold": format_yuan_input(template.threshold_fen or None),
            "amount": format_yuan_input(template.amount_fen or None),
            "percent_off": template.percent_off or None,
            "cap": format_yuan_input(template.cap_fen),
            "free_sku": template.free_sku_id,
            "scope": template.scope,
            "categories": template.scope_ids if template.scope == CouponScope.CATEGORIES else [],
            "products": template.scope_ids if template.scope == CouponScope.PRODUCTS else [],
            "community": template.community_id,
            "validity": template.validity,
            "valid_from": template.valid_from,
            "valid_until": template.valid_until,
            "valid_days": template.valid_days,
            "total_quantity": template.total_quantity,
            "per_person_limit": template.per_person_limit,
            "with_member_prices": template.with_member_prices,
            "claimable": template.claimable,
            "welcome_community": template.welcome_community_id,
            "is_active": template.is_active,
        }

    def show_error(self, message: str, field: str | None) -> None:
        """A ``DomainError`` from the action, next to the field it names (else above the form)."""
        name = self.FIELD_OF.get(field or "", field)
        self.add_error(name if name in self.fields else None, message)


class IssueForm(forms.Form):
    """Staff issue: one coupon each to a tag's members, or to members listed by phone number."""

    tag = forms.ModelChoiceField(label=_("按标签发放"), queryset=Tag.objects.none(), required=False)
    phones = forms.CharField(
        label=_("或按手机号发放（每行一个）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=MAX_RECIPIENTS * 21,
    )

    def __init__(self, *args: Any, shop: Shop, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tags: Any = self.fields["tag"]
        tags.queryset = Tag.objects.filter(community__shop=shop).select_related("community")
        tags.label_from_instance = lambda tag: f"{tag.community.name} · {tag.name}"

    def phone_list(self) -> list[str]:
        return [line.strip() for line in (self.cleaned_data.get("phones") or "").splitlines() if line.strip()]


class PostCardForm(forms.Form):
    post = forms.TypedChoiceField(label=_("放进帖子"), coerce=int, choices=())

    def __init__(self, *args: Any, shop: Shop, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["post"]
        field.choices = [
            (post.pk, f"{post.community.name} · {Truncator(post.body).chars(30)}") for post in shop_posts(shop)
        ]
