"""An article shared inside WeChat shows a card: its title, the start of its text, its cover, its link."""

import pytest
from django.test import Client

from shequn.content import actions
from shequn.content.actions import ArticleInput
from shequn.content.enums import ArticleStatus
from shequn.testing.catalog import image_upload
from shequn.testing.wechat import WECHAT_USER_AGENT, share_card, wechat

__all__ = ["wechat"]

pytestmark = pytest.mark.django_db


def test_article_page_in_wechat_carries_its_share_card(shop, community, operator, member, wechat, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    data = ArticleInput(
        title="三文鱼怎么吃", body="<p>切片，<b>蘸酱油</b>就好</p>", status=ArticleStatus.PUBLISHED,
        cover=image_upload("cover.png"),
    )  # fmt: skip
    article = actions.do_create_article(shop, community, data, actor=operator)
    browser = Client(HTTP_USER_AGENT=WECHAT_USER_AGENT)
    browser.force_login(member)
    url = f"/c/{community.pk}/articles/{article.pk}/"

    card = share_card(browser.get(url).content.decode())

    assert card is not None
    article.refresh_from_db()
    assert card["share"] == {
        "title": "三文鱼怎么吃",
        "desc": "切片，蘸酱油就好",
        "link": f"http://testserver{url}",
        "imgUrl": f"http://testserver{article.cover.url}",
    }
    assert card["config"]["signature"]
