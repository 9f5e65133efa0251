from django.apps import AppConfig


class CommunitiesConfig(AppConfig):
    name = "shequn.communities"
    label = "communities"

    def ready(self) -> None:
        from shequn.catalog.kinds import ProductKind, register

        from .rules import MembershipRules

        register(ProductKind.MEMBERSHIP, MembershipRules())
