"""Forms of prepaid packages: the console's package form (price typed in yuan) and the
redemption form members and the counter share."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from shequn.accounts.models import Address
from shequn.catalog.kinds import ProductKind
from shequn.catalog.models import Sku
from shequn.core.forms import YuanField
from shequn.orders.actions import MAX_LINE_QUANTITY, MAX_NOTE_LENGTH
from shequn.orders.enums import Fulfilment
from shequn.shops.models import PickupPoint, Shop

from .actions import MAX_PORTIONS, MAX_STOCK, MAX_VALIDITY_DAYS, PlanInput
from .enums import RefundRule
from .models import PackagePlan


class PlanForm(forms.Form):
    title = forms.CharField(label=_("套餐名称"), max_length=60)
    item = forms.ModelChoiceField(label=_("兑换商品（每份）"), queryset=Sku.objects.none())
    portions = forms.IntegerField(label=_("份数"), min_value=1, max_value=MAX_PORTIONS, initial=100)
    price = YuanField(label=_("套餐价格（元）"), min_fen=1)
    shipping_included = forms.BooleanField(
        label=_("包邮（可快递兑换；不勾选则只能到店自提）"), required=False, initial=True
    )
    validity_days = forms.IntegerField(
        label=_("有效期（天，自购买起）"), min_value=1, max_value=MAX_VALIDITY_DAYS, initial=365
    )
    refund_rule = forms.ChoiceField(label=_("退款规则"), choices=RefundRule.choices, initial=RefundRule.PRO_RATA)
    stock = forms.IntegerField(label=_("可售份数（张）"), min_value=0, max_value=MAX_STOCK, initial=50)
    description = forms.CharField(label=_("说明"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    on_sale = forms.BooleanField(label=_("在售"), required=False, initial=True)

    def __init__(self, data: Any = None, *, shop: Shop, plan: PackagePlan | None = None):
        initial = None
        if plan is not None and data is None:
            sku = plan.product.skus.filter(is_active=True).first()
            initial = {
                "title": plan.title,
                "item": plan.item_id,
                "portions": plan.portions,
                "price": plan.price_fen,
                "shipping_included": plan.shipping_included,
                "validity_days": plan.validity_days,
                "refund_rule": plan.refund_rule,
                "stock": sku.stock if sku else 0,
                "description": plan.description,
                "on_sale": plan.product.on_shelf,
            }
        super().__init__(data, initial=initial)
        field: Any = self.fields["item"]
        field.queryset = Sku.objects.filter(shop=shop, is_active=True, product__kind=ProductKind.GOODS).select_related(
            "product"
        )
        field.label_from_instance = lambda sku: f"{sku.product.title} {sku.spec}"

    def to_input(self) -> PlanInput:
        data = self.cleaned_data
        return PlanInput(
            title=data["title"],
            item_sku_id=data["item"].pk,
            portions=data["portions"],
            price_fen=data["price"],
            validity_days=data["validity_days"],
            stock=data["stock"],
            shipping_included=data["shipping_included"],
            refund_rule=data["refund_rule"],
            description=data["description"],
            on_sale=data["on_sale"],
        )


class RedeemForm(forms.Form):
    portions = forms.IntegerField(label=_("兑换份数"), min_value=1, max_value=MAX_LINE_QUANTITY, initial=1)
    fulfilment = forms.ChoiceField(
        label=_("领取方式"),
        choices=[(Fulfilment.DELIVERY, Fulfilment.DELIVERY.label), (Fulfilment.PICKUP, Fulfilment.PICKUP.label)],
        widget=forms.RadioSelect,
    )
    address = forms.ModelChoiceField(label=_("收货地址"), queryset=Address.objects.none(), required=False)
    pickup_point = forms.ModelChoiceField(label=_("自提点"), queryset=PickupPoint.objects.none(), required=False)
    buyer_note = forms.CharField(label=_("备注"), max_length=MAX_NOTE_LENGTH, required=False)

    def __init__(self, *args: Any, owner: Any, shop: Shop, shipping_included: bool, **kwargs: Any):
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["address"].queryset = Address.objects.filter(user=owner)
        fields["address"].label_from_instance = lambda a: f"{a.recipient} {a.province}{a.city}{a.district}{a.detail}"
        fields["pickup_point"].queryset = PickupPoint.objects.filter(shop=shop, is_active=True)
        if not shipping_included:
            fields["fulfilment"].choices = [(Fulfilment.PICKUP, Fulfilment.PICKUP.label)]
            del fields["address"]
        self.initial.setdefault("fulfilment", fields["fulfilment"].choices[0][0])
        if "address" in fields:  # the member's default address, chosen already
            address = fields["address"].queryset.order_by("-is_default", "pk").first()
            self.initial.setdefault("address", address.pk if address else None)

    def redemption(self) -> dict[str, Any]:
        data = self.cleaned_data
        address, point = data.get("address"), data.get("pickup_point")
        return {
            "portions": data["portions"],
            "fulfilment": data["fulfilment"],
            "address_id": address.pk if address else None,
            "pickup_point_id": point.pk if point else None,
            "buyer_note": data["buyer_note"],
        }
