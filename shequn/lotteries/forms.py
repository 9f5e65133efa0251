"""The console's lottery form: one Django form with up to ``PRIZE_ROWS`` prize rows, values typed
in yuan (``YuanField``), a wheel's odds in percent."""

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from shequn.catalog.models import Product, Sku
from shequn.communities.models import Community
from shequn.core.forms import YuanField
from shequn.coupons.models import CouponTemplate
from shequn.shops.models import Shop

from .actions import MAX_PRIZES, MAX_SPINS_PER_MEMBER, LotteryInput, PrizeInput, sharing_refused
from .draw import ODDS_SCALE
from .enums import EntryCondition, LotteryMode, PrizeKind
from .models import Lottery

PRIZE_ROWS = 5
LOCAL = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
PRIZE_FIELDS = ("name", "kind", "sku", "coupon", "value", "quantity", "odds")
LOTTERY_FIELDS = (
    "title",
    "rules",
    "mode",
    "entry_condition",
    "community",
    "product",
    "purchase_from",
    "purchase_until",
    "starts_at",
    "ends_at",
    "draw_at",
    "spins_per_member",
    "claim_deadline",
    "unclaimed_rule",
)
PPM_PER_PERCENT = ODDS_SCALE // 100


class LotteryForm(forms.Form):
    title = forms.CharField(label=_("标题"), max_length=60)
    rules = forms.CharField(label=_("活动规则"), max_length=5000, widget=forms.Textarea)
    mode = forms.ChoiceField(label=_("玩法"), choices=LotteryMode.choices)
    entry_condition = forms.ChoiceField(
        label=_("参与条件"),
        choices=EntryCondition.choices,
        error_messages={"invalid_choice": sharing_refused().message},
    )
    community: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("社群"), queryset=Community.objects.none(), required=False
    )
    product: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("需购买的商品"), queryset=Product.objects.none(), required=False
    )
    purchase_from = forms.DateTimeField(label=_("购买时间从"), widget=LOCAL, required=False)
    purchase_until = forms.DateTimeField(label=_("购买时间至"), widget=LOCAL, required=False)
    starts_at = forms.DateTimeField(label=_("开始时间"), widget=LOCAL)
    ends_at = forms.DateTimeField(label=_("结束时间"), widget=LOCAL)
    draw_at = forms.DateTimeField(label=_("开奖时间（定时开奖）"), widget=LOCAL, required=False)
    spins_per_member = forms.IntegerField(
        label=_("每人可抽次数（大转盘）"), min_value=1, max_value=MAX_SPINS_PER_MEMBER, initial=1
    )
    claim_deadline = forms.DateTimeField(label=_("领奖截止时间"), widget=LOCAL)
    unclaimed_rule = forms.CharField(label=_("逾期未领取的处理"), max_length=500, widget=forms.Textarea)

    def __init__(self, *args: Any, shop: Shop, lottery: Lottery | None = None, **kwargs: Any) -> None:
        if lottery is not None and not args:
            kwargs["initial"] = self.initial_of(lottery)
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = Community.objects.filter(shop=shop)  # type: ignore[attr-defined]
        self.fields["product"].queryset = Product.objects.filter(shop=shop)  # type: ignore[attr-defined]
        skus = Sku.objects.filter(shop=shop, is_active=True).select_related("product").order_by("product__title", "pk")
        templates = CouponTemplate.objects.filter(shop=shop, is_active=True)
        for row in range(PRIZE_ROWS):
            required = row == 0
            self.fields[f"prize_{row}_name"] = forms.CharField(label=_("奖品名称"), max_length=60, required=required)
            self.fields[f"prize_{row}_kind"] = forms.ChoiceField(
                label=_("类型"), choices=PrizeKind.choices, initial=PrizeKind.GOODS
            )
            self.fields[f"prize_{row}_sku"] = forms.ModelChoiceField(label=_("商品规格"), queryset=skus, required=False)
            self.fields[f"prize_{row}_coupon"] = forms.ModelChoiceField(
                label=_("优惠券"), queryset=templates, required=False
            )
            self.fields[f"prize_{row}_value"] = YuanField(
                label=_("价值（元；红包为发放金额）"), required=required, max_fen=10**9
            )
            self.fields[f"prize_{row}_quantity"] = forms.IntegerField(
                label=_("数量"), min_value=1, max_value=10_000, required=required
            )
            self.fields[f"prize_{row}_odds"] = forms.DecimalField(
                label=_("中奖率 %（大转盘）"),
                min_value=Decimal(0),
                max_value=Decimal(100),
                decimal_places=4,
                required=False,
            )

    @property
    def lottery_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in LOTTERY_FIELDS]

    @property
    def prize_rows(self) -> list[list[forms.BoundField]]:
        return [[self[f"prize_{row}_{name}"] for name in PRIZE_FIELDS] for row in range(PRIZE_ROWS)]

    @staticmethod
    def initial_of(lottery: Lottery) -> dict[str, Any]:
        initial: dict[str, Any] = {name: getattr(lottery, name) for name in LOTTERY_FIELDS}
        for row, prize in enumerate(lottery.prizes.all()[:PRIZE_ROWS]):
            initial.update(
                {
                    f"prize_{row}_name": prize.name,
                    f"prize_{row}_kind": prize.kind,
                    f"prize_{row}_sku": prize.sku_id,
                    f"prize_{row}_coupon": prize.coupon_template_id,
                    f"prize_{row}_value": prize.value_fen,
                    f"prize_{row}_quantity": prize.quantity,
                    f"prize_{row}_odds": Decimal(prize.odds_ppm) / PPM_PER_PERCENT if prize.odds_ppm else None,
                }
            )
        return initial

    def to_input(self) -> LotteryInput:
        data = self.cleaned_data
        prizes = []
        for row in range(min(PRIZE_ROWS, MAX_PRIZES)):
            name = (data.get(f"prize_{row}_name") or "").strip()
            if not name:
                continue
            sku = data.get(f"prize_{row}_sku")
            template = data.get(f"prize_{row}_coupon")
            odds = data.get(f"prize_{row}_odds") or Decimal(0)
            prizes.append(
                PrizeInput(
                    name=name,
                    kind=data[f"prize_{row}_kind"],
                    value_fen=data.get(f"prize_{row}_value") or 0,
                    quantity=data.get(f"prize_{row}_quantity") or 0,
                    sku_id=sku.pk if sku else None,
                    coupon_template_id=template.pk if template else None,
                    odds_ppm=int(odds * PPM_PER_PERCENT),
                )
            )
        return LotteryInput(
            title=data["title"],
            rules=data["rules"],
            mode=data["mode"],
            entry_condition=data["entry_condition"],
            community_id=data["community"].pk if data.get("community") else None,
            product_id=data["product"].pk if data.get("product") else None,
            purchase_from=data.get("purchase_from"),
            purchase_until=data.get("purchase_until"),
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            draw_at=data.get("draw_at"),
            spins_per_member=data.get("spins_per_member") or 1,
            claim_deadline=data["claim_deadline"],
            unclaimed_rule=data["unclaimed_rule"],
            prizes=prizes,
        )

    def show_error(self, message: str, field: str | None) -> None:
        """A ``DomainError`` from the action: next to the field it names, else above the form."""
        field = {"community_id": "community", "product_id": "product"}.get(field or "", field)
        self.add_error(field if field in LOTTERY_FIELDS else None, message)
