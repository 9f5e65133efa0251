"""Page forms of onboarding and the platform console: a page parses its POST with one form, then
calls one action (the rules themselves are the actions')."""

from django import forms
from django.utils.translation import gettext_lazy

from shequn.shops.enums import ShopCategory, ShopStatus

from .enums import ApplicationStatus, BusinessSubject


class ApplicationForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("店铺名称"), max_length=30)
    slug = forms.CharField(
        label=gettext_lazy("店铺地址"),
        max_length=32,
        help_text=gettext_lazy("3–32 位小写字母、数字或短横线，如 xianguo-shop"),
    )
    category = forms.ChoiceField(label=gettext_lazy("经营类目"), choices=ShopCategory.choices)
    logo = forms.ImageField(label=gettext_lazy("店铺头像"), required=False)
    business_subject = forms.ChoiceField(label=gettext_lazy("经营主体"), choices=BusinessSubject.choices)
    licence_number = forms.CharField(
        label=gettext_lazy("统一社会信用代码"),
        max_length=30,
        required=False,
        help_text=gettext_lazy("个体工商户和企业必填（营业执照上的 18 位代码）"),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("原因"), max_length=200)


class ShopFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("状态"), choices=[("", gettext_lazy("全部状态")), *ShopStatus.choices], required=False
    )
    q = forms.CharField(label=gettext_lazy("搜索"), max_length=60, required=False)


class ApplicationFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("状态"), choices=[("", gettext_lazy("全部")), *ApplicationStatus.choices], required=False
    )


class AuditSearchForm(forms.Form):
    shop = forms.IntegerField(label=gettext_lazy("店铺 ID"), min_value=1, max_value=2**63 - 1, required=False)
    actor = forms.CharField(label=gettext_lazy("操作人用户名"), max_length=64, required=False)
    action = forms.CharField(label=gettext_lazy("操作（前缀）"), max_length=64, required=False)
    since = forms.DateField(
        label=gettext_lazy("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=gettext_lazy("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
