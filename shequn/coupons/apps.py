from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CouponsConfig(AppConfig):
    name = "shequn.coupons"
    label = "coupons"
    verbose_name = _("优惠券")

    def ready(self) -> None:
        from shequn.communities import cards, signals
        from shequn.communities.models import CommunityMembership

        from . import actions, selectors

        cards.register("coupons.post", selectors.post_cards)
        signals.member_joined.connect(
            actions.welcome_new_member, sender=CommunityMembership, dispatch_uid="coupons.member_joined"
        )
