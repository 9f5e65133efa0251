from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class PackagesConfig(AppConfig):
    name = "shequn.packages"
    label = "packages"
    verbose_name = gettext_lazy("套餐卡")

    def ready(self) -> None:
        from shequn.catalog.kinds import ProductKind, register
        from shequn.gifts.kinds import register as register_gift

        from .rules import PackageGiftRules, PackageRules

        register(ProductKind.PACKAGE, PackageRules())
        register_gift(ProductKind.PACKAGE, PackageGiftRules())
