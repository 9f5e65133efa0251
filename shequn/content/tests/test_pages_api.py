"""Pages and API: members-only 404s, tenant isolation, permissions, console writes audited."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from shequn.content import actions
from shequn.content.actions import ArticleInput
from shequn.content.enums import ArticleStatus, MatchType
from shequn.content.models import Article, KeywordRule, PushJob
from shequn.core.models import AuditLog
from shequn.notifications.models import Notification
from shequn.shops.enums import StaffRole
from shequn.testing.catalog import image_upload
from shequn.testing.factories import StaffFactory
from shequn.testing.two_shops import login

from .conftest import api_client
from .members import after_commit
from .test_content import wav_upload

JSON = "application/json"


@pytest.fixture
def article(shop, community, operator, product):
    with after_commit():
        return actions.do_create_article(
            shop,
            community,
            ArticleInput(
                title="三文鱼怎么吃",
                body='<p>切片<script>alert(1)</script></p><img src="https://img.example.com/a.png" onerror="x()">',
                status=ArticleStatus.PUBLISHED,
                product_ids=[product.pk],
            ),
            actor=operator,
        )


@pytest.fixture
def service_client(shop):
    return login(StaffFactory.create(shop=shop, role=StaffRole.SERVICE).user)


# --- member pages ------------------------------------------------------------------


def test_member_reads_the_list_and_the_article_with_its_product_card(member, community, article, product):
    client = login(member)
    listing = client.get(f"/c/{community.pk}/articles/")
    assert listing.status_code == 200
    assert "三文鱼怎么吃" in listing.content.decode()
    page = client.get(f"/c/{community.pk}/articles/{article.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<p>切片</p>" in html
    assert "alert(1)" not in html
    assert "onerror" not in html
    assert 'data-testid="product-card"' in html
    assert "¥35.00" in html
    assert f"/s/{product.shop.slug}/p/{product.pk}/?article={article.pk}" in html
    assert "购买" in html


def test_non_members_get_404_for_pages_and_api(outsider, community, article):
    client = login(outsider)
    for path in (
        f"/c/{community.pk}/articles/",
        f"/c/{community.pk}/articles/{article.pk}/",
        f"/c/{community.pk}/ask/",
    ):
        assert client.get(path).status_code == 404, path
    api = api_client(outsider)
    base = f"/api/v1/content/communities/{community.pk}"
    assert api.get(f"{base}/articles").status_code == 404
    assert api.get(f"{base}/articles/{article.pk}").status_code == 404
    assert api.get(f"{base}/articles/{article.pk}").json()["code"] == "article_not_found"
    assert api.post(f"{base}/ask", json.dumps({"text": "价格"}), content_type=JSON).status_code == 404


def test_drafts_are_invisible_to_members(member, shop, community, operator):
    draft = actions.do_create_article(shop, community, ArticleInput(title="草稿"), actor=operator)
    assert login(member).get(f"/c/{community.pk}/articles/{draft.pk}/").status_code == 404
    assert api_client(member).get(f"/api/v1/content/communities/{community.pk}/articles/{draft.pk}").status_code == 404


def test_member_api_lists_reads_and_asks(member, community, article, shop, operator):
    actions.do_create_keyword_rule(
        shop,
        community,
        actions.KeywordRuleInput(keyword="吃法", match_type=MatchType.CONTAINS, reply_article_id=article.pk),
        actor=operator,
    )
    api = api_client(member)
    base = f"/api/v1/content/communities/{community.pk}"
    listing = api.get(f"{base}/articles?page=1&page_size=10").json()
    assert listing["count"] == 1
    assert listing["items"][0]["id"] == article.pk
    body = api.get(f"{base}/articles/{article.pk}").json()
    assert body["products"][0]["price_fen"] == 3500
    assert body["products"][0]["buy_url"].endswith(f"?article={article.pk}")
    reply = api.post(f"{base}/ask", json.dumps({"text": "有什么吃法"}), content_type=JSON).json()
    assert reply["matched"] is True
    assert reply["article"]["id"] == article.pk
    unknown = api.post(f"{base}/ask", json.dumps({"text": "???"}), content_type=JSON).json()
    assert unknown["matched"] is False
    assert unknown["text"]


def test_service_box_page_answers(member, community, shop, operator):
    actions.do_create_keyword_rule(
        shop, community, actions.KeywordRuleInput(keyword="配送", reply_text="次日达"), actor=operator
    )
    client = login(member)
    assert "次日达" in client.post(f"/c/{community.pk}/ask/", {"text": "配送"}).content.decode()
    assert "暂时没有找到" in client.post(f"/c/{community.pk}/ask/", {"text": "别的"}).content.decode()


# --- console pages -------------------------------------------------------------------


def test_console_creates_schedules_and_publishes_with_push_audited(console_client, shop, community, member, product):
    assert console_client.get("/console/content/").status_code == 200
    assert console_client.get(f"/console/content/communities/{community.pk}/articles/new/").status_code == 200
    with after_commit():
        response = console_client.post(
            f"/console/content/communities/{community.pk}/articles/new/",
            {
                "title": "本周上新",
                "body": "<p>新鲜<a href='javascript:x()'>点</a></p>",
                "status": "published",
                "push_enabled": "1",
                "members_only": "1",
                "product_ids": [str(product.pk)],
            },
        )
    assert response.status_code == 302
    article = Article.objects.get(title="本周上新")
    assert article.status == ArticleStatus.PUBLISHED
    assert "javascript" not in article.body
    assert AuditLog.objects.filter(action="content.article_created", shop=shop).exists()
    assert Notification.objects.filter(user=member, kind="content.article").count() == 1
    assert console_client.get(f"/console/content/articles/{article.pk}/").status_code == 200
    jobs = console_client.get("/console/content/pushes/").content.decode()
    assert 'data-testid="push-sent">1<' in jobs
    assert "push-running" not in jobs
    PushJob.objects.update(status="running")
    assert 'http-equiv="refresh"' in console_client.get("/console/content/pushes/").content.decode()
    assert console_client.get(f"/console/content/communities/{community.pk}/").status_code == 200
    assert article.published_at is not None
    local = article.published_at.astimezone()
    calendar = console_client.get(f"/console/content/calendar/?year={local.year}&month={local.month}")
    assert "本周上新" in calendar.content.decode()
    bad = console_client.post(
        f"/console/content/communities/{community.pk}/articles/new/",
        {"title": "", "status": "scheduled", "publish_at": ""},
    )
    assert bad.status_code == 422


def test_console_keyword_rules_and_default_reply(console_client, shop, community):
    base = f"/console/content/communities/{community.pk}"
    assert (
        console_client.post(
            f"{base}/keywords/", {"keyword": "价格", "match_type": "exact", "reply_text": "看商品页"}
        ).status_code
        == 302
    )
    rule = KeywordRule.objects.get(keyword="价格")
    assert console_client.get(f"{base}/keywords/").status_code == 200
    assert (
        console_client.post(
            f"/console/content/keywords/{rule.pk}/", {"keyword": "价钱", "match_type": "contains", "reply_text": "x"}
        ).status_code
        == 302
    )
    assert KeywordRule.objects.get(pk=rule.pk).match_type == MatchType.CONTAINS
    assert (
        console_client.post(f"{base}/settings/", {"default_reply": "请稍候", "max_pushes_per_day": "2"}).status_code
        == 302
    )
    assert actions.answer_keyword(community, "无关").text == "请稍候"
    assert console_client.post(f"/console/content/keywords/{rule.pk}/delete/").status_code == 302
    assert not KeywordRule.objects.exists()
    audited = set(AuditLog.objects.filter(shop=shop).values_list("action", flat=True))
    assert {
        "content.keyword_rule_created",
        "content.keyword_rule_updated",
        "content.keyword_rule_deleted",
        "content.settings_updated",
    } <= audited


def test_staff_of_another_shop_get_404_in_console_and_api(other_console_client, other_operator, community, article):
    for path in (
        f"/console/content/communities/{community.pk}/",
        f"/console/content/communities/{community.pk}/articles/new/",
        f"/console/content/articles/{article.pk}/",
        f"/console/content/communities/{community.pk}/keywords/",
    ):
        assert other_console_client.get(path).status_code == 404, path
    assert other_console_client.post(f"/console/content/articles/{article.pk}/push/").status_code == 404
    api = api_client(other_operator)
    assert api.get(f"/api/v1/content/console/articles/{article.pk}").status_code == 404
    assert api.get(f"/api/v1/content/console/communities/{community.pk}/articles").status_code == 404
    assert (
        api.post(
            f"/api/v1/content/console/communities/{community.pk}/keyword-rules",
            json.dumps({"keyword": "x", "reply_text": "y"}),
            content_type=JSON,
        ).status_code
        == 404
    )
    assert not KeywordRule.objects.exists()


def test_service_role_gets_403(service_client, shop, community, article):
    assert service_client.get("/console/content/").status_code == 403
    assert service_client.get(f"/console/content/articles/{article.pk}/").status_code == 403
    staff = StaffFactory._meta.model.objects.get(shop=shop, role=StaffRole.SERVICE).user
    assert api_client(staff).get(f"/api/v1/content/console/articles/{article.pk}").status_code == 403


# --- console API -------------------------------------------------------------------


def test_console_api_articles_push_jobs_rules_settings(operator, shop, community, member, product):
    api = api_client(operator)
    base = "/api/v1/content/console"
    with after_commit():
        created = api.post(
            f"{base}/communities/{community.pk}/articles",
            json.dumps({"title": "API 文章", "body": "<p>ok</p><script>x</script>", "product_ids": [product.pk]}),
            content_type=JSON,
        )
    assert created.status_code == 201
    article_id = created.json()["id"]
    assert created.json()["body_html"] == "<p>ok</p>"
    assert created.json()["status"] == "draft"
    with after_commit():
        updated = api.put(
            f"{base}/articles/{article_id}",
            json.dumps({"title": "API 文章", "status": "published", "product_ids": [product.pk]}),
            content_type=JSON,
        )
    assert updated.json()["status"] == "published"
    with after_commit():
        pushed = api.post(f"{base}/articles/{article_id}/push")
    assert pushed.status_code == 200
    assert api.get(f"{base}/push-jobs/{pushed.json()['id']}").json()["sent"] == 1
    assert api.get(f"{base}/push-jobs").json()["items"][0]["id"] == PushJob.objects.get().pk
    assert api.get(f"{base}/push-jobs/{pushed.json()['id']}").json()["status"] == "done"
    assert api.get(f"{base}/communities/{community.pk}/articles").json()["count"] == 1
    assert api.get(f"{base}/calendar?year=2020&month=1").json() == []
    rule = api.post(
        f"{base}/communities/{community.pk}/keyword-rules",
        json.dumps({"keyword": "文章", "reply_article_id": article_id}),
        content_type=JSON,
    )
    assert rule.status_code == 201
    duplicate = api.post(
        f"{base}/communities/{community.pk}/keyword-rules",
        json.dumps({"keyword": "文章", "reply_text": "x"}),
        content_type=JSON,
    )
    assert duplicate.status_code == 422
    assert duplicate.json()["code"] == "invalid_keyword_rule"
    assert api.get(f"{base}/communities/{community.pk}/keyword-rules").json()["count"] == 1
    assert (
        api.put(
            f"{base}/keyword-rules/{rule.json()['id']}",
            json.dumps({"keyword": "文", "match_type": "contains", "reply_text": "t"}),
            content_type=JSON,
        ).json()["match_type"]
        == "contains"
    )
    assert api.delete(f"{base}/keyword-rules/{rule.json()['id']}").status_code == 204
    settings = api.put(
        f"{base}/communities/{community.pk}/settings",
        json.dumps({"max_pushes_per_day": 2, "default_reply": "你好"}),
        content_type=JSON,
    )
    assert settings.json() == {"community_id": community.pk, "max_pushes_per_day": 2, "default_reply": "你好"}
    assert api.get(f"{base}/communities/{community.pk}/settings").json()["default_reply"] == "你好"


def test_console_api_uploads_cover_and_audio(operator, article, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    api = api_client(operator)
    url = f"/api/v1/content/console/articles/{article.pk}/media"
    response = api.post(url, {"cover": image_upload(), "audio": wav_upload(125)})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["cover_url"]
    assert body["audio_url"]
    assert body["audio_duration_seconds"] == 125
    assert body["audio_duration"] == "02:05"
    mp3 = SimpleUploadedFile("a.mp3", b"ID3 not wav", content_type="audio/mpeg")
    entered = api.post(url, {"audio": mp3, "audio_duration_seconds": "61"})
    assert entered.json()["audio_duration"] == "01:01"
    not_an_image = SimpleUploadedFile("x.png", b"nope", content_type="image/png")
    refused = api.post(url, {"cover": not_an_image})
    assert refused.status_code == 422
    assert "cover" in refused.json()["details"]["fields"]
    assert AuditLog.objects.filter(action="content.article_media_updated").count() == 2


def test_django_admin_lists_content_for_platform_staff(admin_client, article):
    for path in ("/admin/content/article/", f"/admin/content/article/{article.pk}/change/", "/admin/content/pushjob/"):
        assert admin_client.get(path).status_code == 200, path


def test_every_content_route_declares_errors(db):
    from django.test import Client

    schema = Client().get("/api/v1/openapi.json").json()
    content_paths = [path for path in schema["paths"] if path.startswith("/api/v1/content/")]
    assert len(content_paths) >= 12
    for path in content_paths:
        for method, operation in schema["paths"][path].items():
            codes = {int(code) for code in operation["responses"]}
            assert {401, 404, 422} <= codes, (method, path)
