"""A team's link, the one members send to neighbours, shows a card inside WeChat: the offer, how
many make the team and at what price, the shop's logo. Sharing earns nothing (RULES.md)."""

import pytest
from django.test import Client

from shequn.teambuy import actions
from shequn.testing.catalog import image_upload
from shequn.testing.wechat import WECHAT_USER_AGENT, share_card, wechat

__all__ = ["wechat"]

pytestmark = pytest.mark.django_db


def test_team_page_in_wechat_carries_its_share_card(shop, offer, destination, members, wechat, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    shop.logo = image_upload("logo.png", (200, 200))
    shop.save(update_fields=["logo"])
    team = actions.do_open_team(members[0], offer.pk, destination).team
    url = f"/teambuy/teams/{team.pk}/"

    # A neighbour opens the shared link inside WeChat, not signed in yet.
    card = share_card(Client(HTTP_USER_AGENT=WECHAT_USER_AGENT).get(url).content.decode())

    assert card is not None
    assert card["share"] == {
        "title": "有机鱼头 3 人团",
        "desc": "3 人成团，拼团价 ¥39.90",
        "link": f"http://testserver{url}",
        "imgUrl": f"http://testserver{shop.logo.url}",
    }
    assert card["config"]["signature"]
