"""The console's pool form (one Django form; the total typed in yuan) and the shop's setting."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from shequn.catalog.models import Product
from shequn.communities.models import Community
from shequn.core.errors import DomainError
from shequn.core.forms import YuanField
from shequn.core.pages import field_errors
from shequn.events.models import Event
from shequn.shops.models import Shop

from .actions import DEFAULT_COUPON_DAYS, MAX_COUNT, MAX_TITLE_LENGTH, MAX_TOTAL_FEN, MAX_VALID_DAYS, PacketInput
from .enums import Audience, Split

LOCAL = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class RedPacketForm(forms.Form):
    title = forms.CharField(label=_("标题"), max_length=MAX_TITLE_LENGTH)
    total = YuanField(label=_("总金额（元）"), min_fen=1, max_fen=MAX_TOTAL_FEN)
    count = forms.IntegerField(label=_("红包个数"), min_value=1, max_value=MAX_COUNT)
    split = forms.ChoiceField(label=_("红包类型"), choices=Split.choices, initial=Split.RANDOM)
    # Membership, attendance or a purchase only: no choice makes sharing or inviting a condition (RULES.md).
    audience = forms.ChoiceField(label=_("领取范围"), choices=Audience.choices, initial=Audience.COMMUNITY)
    community: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("社群"), queryset=Community.objects.none(), required=False
    )
    event: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("活动"), queryset=Event.objects.none(), required=False
    )
    product: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("商品（购买者）"), queryset=Product.objects.none(), required=False
    )
    purchase_from = forms.DateTimeField(label=_("购买时间从"), widget=LOCAL, required=False)
    purchase_until = forms.DateTimeField(label=_("购买时间到"), widget=LOCAL, required=False)
    as_coupons = forms.BooleanField(label=_("以优惠券发放（每人领到一张等额无门槛券，不动用店铺资金）"), required=False)
    coupon_valid_days = forms.IntegerField(
        label=_("优惠券有效天数（自领取起）"),
        min_value=1,
        max_value=MAX_VALID_DAYS,
        initial=DEFAULT_COUPON_DAYS,
        required=False,
    )
    starts_at = forms.DateTimeField(label=_("开始时间"), widget=LOCAL)
    expires_at = forms.DateTimeField(label=_("结束时间（未领取的退回店铺）"), widget=LOCAL)

    def __init__(self, *args: Any, shop: Shop, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = Community.objects.filter(shop=shop)  # type: ignore[attr-defined]
        self.fields["event"].queryset = Event.objects.filter(shop=shop).order_by("-starts_at")  # type: ignore[attr-defined]
        self.fields["product"].queryset = Product.objects.filter(shop=shop)  # type: ignore[attr-defined]

    def to_input(self) -> PacketInput:
        data = self.cleaned_data
        event = data["event"] if data["audience"] == Audience.EVENT else None
        community = data["community"] if data["audience"] == Audience.COMMUNITY else None
        buyers = data["audience"] == Audience.BUYERS
        product = data["product"] if buyers else None
        return PacketInput(
            title=data["title"],
            total_fen=data["total"],
            count=data["count"],
            split=data["split"],
            audience=data["audience"],
            community_id=community.pk if community else None,
            event_id=event.pk if event else None,
            product_id=product.pk if product else None,
            purchase_from=data.get("purchase_from") if buyers else None,
            purchase_until=data.get("purchase_until") if buyers else None,
            as_coupons=data["as_coupons"],
            coupon_valid_days=data.get("coupon_valid_days") or DEFAULT_COUPON_DAYS,
            starts_at=data["starts_at"],
            expires_at=data["expires_at"],
        )

    def show_error(self, error: DomainError) -> None:
        """The action's error next to the field it names (``total`` for the amount), else above."""
        fields = field_errors(error)
        for name, message in fields.items():
            self.add_error(name if name in self.fields else None, message)
        if not fields:
            self.add_error(None, error.message)


class SettingsForm(forms.Form):
    withdrawable = forms.BooleanField(label=_("领到的红包可提现"), required=False)
