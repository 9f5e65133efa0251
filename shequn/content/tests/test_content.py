"""Domain rules of content: sanitising, audio length, publishing once, capped bulk pushes,
keyword replies."""

import io
import wave
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shequn.accounts.models import User
from shequn.communities.enums import MemberStatus
from shequn.communities.models import CommunityMembership
from shequn.content import actions, tasks
from shequn.content.actions import ArticleInput, KeywordRuleInput
from shequn.content.enums import ArticleStatus, MatchType, PushStatus
from shequn.content.errors import InvalidArticle
from shequn.content.models import Article, ContentSettings, PushDelivery, PushJob
from shequn.core.models import AuditLog
from shequn.notifications.models import Notification
from shequn.testing.catalog import make_product
from shequn.testing.factories import CommunityFactory

from .members import add_existing, add_members, after_commit

SHANGHAI = ZoneInfo("Asia/Shanghai")


def publish(shop, community, operator, title="今日鲜货", *, push=True, **fields):
    with after_commit():
        return actions.do_create_article(
            shop,
            community,
            ArticleInput(title=title, body="<p>正文</p>", status=ArticleStatus.PUBLISHED, push_enabled=push, **fields),
            actor=operator,
        )


# --- sanitising ----------------------------------------------------------------------


def test_sanitising_strips_scripts_handlers_and_javascript_urls_but_keeps_allowed_tags():
    dirty = (
        '<h2>标题</h2><p onclick="steal()">一段<strong>加粗</strong><em>斜体</em><br>'
        '<a href="javascript:alert(1)">坏链接</a> <a href="https://example.com/x" target="_blank">好链接</a></p>'
        '<script>alert("x")</script><img src="https://img.example.com/a.png" alt="鱼" onerror="alert(2)">'
        "<ul><li>一</li></ul><ol><li>二</li></ol><blockquote>引用</blockquote><h3>小标题</h3>"
        '<iframe src="https://evil.example"></iframe><div style="color:red">块</div>'
    )
    clean = actions.sanitize_html(dirty)
    assert "<script" not in clean
    assert "alert(" not in clean
    assert "onerror" not in clean
    assert "onclick" not in clean
    assert "javascript:" not in clean
    assert "<iframe" not in clean
    assert "style=" not in clean
    assert "target=" not in clean
    for kept in ("<h2>标题</h2>", "<strong>加粗</strong>", "<em>斜体</em>", "<br>", "<li>一</li>", "<ol>", "<h3>"):
        assert kept in clean
    assert "<blockquote>引用</blockquote>" in clean
    assert '<img src="https://img.example.com/a.png" alt="鱼">' in clean
    assert '<a href="https://example.com/x" rel="noopener">好链接</a>' in clean
    assert '<a rel="noopener">坏链接</a>' in clean  # the javascript: URL is gone, the text stays
    assert "块" in clean
    assert "<div" not in clean


def test_article_body_is_sanitised_on_save(shop, community, operator):
    article = actions.do_create_article(
        shop,
        community,
        ArticleInput(title="t", body='<p>hi</p><img src=x onerror="alert(1)"><script>bad()</script>'),
        actor=operator,
    )
    article.refresh_from_db()
    assert article.body == '<p>hi</p><img src="x">'
    assert AuditLog.objects.filter(action="content.article_created", object_id=str(article.pk)).exists()


# --- cards and audio -----------------------------------------------------------------


def test_cards_only_take_on_shelf_products_of_the_same_shop(shop, other_shop, community, operator, product):
    off_shelf = make_product(shop, "下架商品", on_shelf=False)
    foreign = make_product(other_shop, "别家商品")
    for bad in (off_shelf, foreign):
        with pytest.raises(InvalidArticle) as error:
            actions.do_create_article(
                shop, community, ArticleInput(title="t", product_ids=[product.pk, bad.pk]), actor=operator
            )
        assert "product_ids" in error.value.details["fields"]
    article = actions.do_create_article(
        shop, community, ArticleInput(title="t", product_ids=[product.pk]), actor=operator
    )
    assert list(article.cards.values_list("product_id", flat=True)) == [product.pk]


def wav_upload(seconds: float, rate: int = 8000) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(rate)
        audio.writeframes(b"\x00\x00" * int(seconds * rate))
    return SimpleUploadedFile("note.wav", buffer.getvalue(), content_type="audio/wav")


def test_wav_duration_is_measured_other_formats_take_the_entered_duration(
    shop, community, operator, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    wav = actions.do_create_article(
        shop, community, ArticleInput(title="wav", audio=wav_upload(75), audio_duration_seconds=3), actor=operator
    )
    assert wav.audio_duration_seconds == 75
    assert wav.audio_duration_display == "01:15"
    mp3 = SimpleUploadedFile("note.mp3", b"ID3\x03not really mp3", content_type="audio/mpeg")
    other = actions.do_create_article(
        shop, community, ArticleInput(title="mp3", audio=mp3, audio_duration_seconds=605), actor=operator
    )
    assert other.audio_duration_seconds == 605
    assert other.audio_duration_display == "10:05"


# --- scheduled publishing --------------------------------------------------------------


def test_scheduled_article_is_published_at_its_time_exactly_once(shop, community, operator, member):
    start = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
    publish_at = start + timedelta(hours=2)
    with time_machine.travel(start, tick=False):
        article = actions.do_create_article(
            shop,
            community,
            ArticleInput(title="定时", status=ArticleStatus.SCHEDULED, publish_at=publish_at, push_enabled=True),
            actor=operator,
        )
        assert article.status == ArticleStatus.SCHEDULED
        # Too early: neither the task nor the sweeper publishes.
        assert tasks.publish_scheduled_article.call_local(article.pk) is False
        assert tasks.sweep_scheduled_articles.call_local() == 0
    with time_machine.travel(publish_at + timedelta(seconds=1), tick=False), after_commit():
        assert tasks.publish_scheduled_article.call_local(article.pk) is True
        assert tasks.publish_scheduled_article.call_local(article.pk) is False
        assert tasks.sweep_scheduled_articles.call_local() == 0
    article.refresh_from_db()
    assert article.status == ArticleStatus.PUBLISHED
    assert article.published_at == publish_at + timedelta(seconds=1)
    assert PushJob.objects.filter(article=article).count() == 1
    assert Notification.objects.filter(user=member, kind="content.article").count() == 1


def test_sweeper_publishes_what_the_eta_task_missed_once(shop, community, operator):
    start = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
    with time_machine.travel(start, tick=False):
        article = actions.do_create_article(
            shop,
            community,
            ArticleInput(title="定时", status=ArticleStatus.SCHEDULED, publish_at=start + timedelta(minutes=30)),
            actor=operator,
        )
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        assert tasks.sweep_scheduled_articles.call_local() == 1
        assert tasks.sweep_scheduled_articles.call_local() == 0
        assert tasks.publish_scheduled_article.call_local(article.pk) is False
    assert Article.objects.get(pk=article.pk).status == ArticleStatus.PUBLISHED


def test_scheduling_in_the_past_is_refused(shop, community, operator):
    with pytest.raises(InvalidArticle) as error:
        actions.do_create_article(
            shop,
            community,
            ArticleInput(title="t", status=ArticleStatus.SCHEDULED, publish_at=datetime(2020, 1, 1, tzinfo=SHANGHAI)),
            actor=operator,
        )
    assert "publish_at" in error.value.details["fields"]


# --- pushes and the daily cap -------------------------------------------------------


def pushes(user_id, community=None):
    rows = Notification.objects.filter(user_id=user_id, kind="content.article")
    return rows.filter(link__startswith=f"/c/{community.pk}/") if community is not None else rows


def test_push_cap_is_per_member_per_community_per_local_day(shop, community, operator, member):
    second_community = CommunityFactory.create(shop=shop, name="浦东生鲜群")
    add_existing(second_community, [member.pk])
    day = datetime(2026, 3, 2, 8, 0, tzinfo=SHANGHAI)
    with time_machine.travel(day, tick=False):
        first = publish(shop, community, operator, "第一篇")
        other = publish(shop, second_community, operator, "另一个群")
        # Two communities pushing the same day: one push from each.
        assert pushes(member.pk, community).count() == 1
        assert pushes(member.pk, second_community).count() == 1
        # A second article in the same community the same day skips them.
        second = publish(shop, community, operator, "第二篇")
        assert pushes(member.pk, community).count() == 1
        job = PushJob.objects.get(article=second)
        assert (job.status, job.total, job.sent, job.skipped_by_cap) == (PushStatus.DONE, 1, 0, 1)
        assert job.progress_percent == 100
    # 23:30 the same local day (15:30 UTC) is still the same day; 00:10 the next is not.
    with time_machine.travel(day.replace(hour=23, minute=30), tick=False):
        publish(shop, community, operator, "深夜")
        assert pushes(member.pk, community).count() == 1
    with time_machine.travel(day + timedelta(days=1, hours=-7, minutes=10), tick=False):
        publish(shop, community, operator, "第二天")
        assert pushes(member.pk, community).count() == 2
    assert PushJob.objects.get(article=first).sent == 1
    assert PushJob.objects.get(article=other).sent == 1


def test_a_configured_cap_of_two_allows_two_pushes_a_day(shop, community, operator, member):
    ContentSettings.objects.create(community=community, max_pushes_per_day=2)
    with time_machine.travel(datetime(2026, 3, 2, 8, 0, tzinfo=SHANGHAI), tick=False):
        for title in ("一", "二", "三"):
            publish(shop, community, operator, title)
    assert pushes(member.pk).count() == 2
    assert PushDelivery.objects.filter(user=member).count() == 2


def test_only_active_members_are_pushed(shop, community, operator, member):
    removed = add_members(community, 2)
    CommunityMembership.objects.filter(user_id__in=removed).update(status=MemberStatus.REMOVED)
    publish(shop, community, operator)
    assert Notification.objects.filter(kind="content.article").count() == 1


def test_a_race_between_two_jobs_still_honours_the_cap(shop, community, operator):
    """Two jobs claiming the same members' slot for the same day: the unique constraint lets one win."""
    ids = sorted(add_members(community, 30))
    first = publish(shop, community, operator, "甲", push=False)
    second = publish(shop, community, operator, "乙", push=False)
    job_a = PushJob.objects.create(shop=shop, community=community, article=first)
    job_b = PushJob.objects.create(shop=shop, community=community, article=second)
    today = datetime(2026, 3, 2, tzinfo=SHANGHAI).date()
    memberships = CommunityMembership.objects.filter(community=community)
    # Interleave: each job takes slots for overlapping parts of the members.
    actions._take_slots(job_a, memberships.filter(user_id__in=ids[:20]), today, 1)
    actions._take_slots(job_b, memberships.filter(user_id__in=ids[10:]), today, 1)

    def won(job):
        return sorted(PushDelivery.objects.filter(push_job=job).values_list("user_id", flat=True))

    assert won(job_a) == ids[:20]
    assert won(job_b) == ids[20:]
    assert PushDelivery.objects.filter(local_date=today).count() == 30


def test_a_push_reaches_each_member_in_their_language(shop, community, operator, member, other_member):
    User.objects.filter(pk=other_member.pk).update(language="en")
    with after_commit():
        publish(shop, community, operator, title="今日鲜货")
    assert list(pushes(member.pk).values_list("title", "body")) == [
        (f"{community.name}：今日鲜货", "社群有新文章，点击阅读")
    ]
    assert list(pushes(other_member.pk).values_list("title", "body")) == [
        (f"{community.name}: 今日鲜货", "New article in your community; tap to read")
    ]


def test_a_push_job_runs_once(shop, community, operator, member):
    article = publish(shop, community, operator, push=False)
    with after_commit():
        job = actions.do_push_now(shop, article, actor=operator)
    assert actions.do_push_now(shop, article, actor=operator).pk == job.pk
    assert actions.run_push_job(job.pk) is None  # already done by the after-commit task
    assert pushes(member.pk).count() == 1


def count_push_queries(shop, operator, user_ids: list[int], batch_size: int) -> int:
    """Statements of one push of a new community of ``user_ids`` in chunks of ``batch_size``."""
    community = CommunityFactory.create(shop=shop)
    add_existing(community, user_ids)
    article = publish(shop, community, operator, push=False)
    job = PushJob.objects.create(shop=shop, community=community, article=article)
    with CaptureQueriesContext(connection) as queries:
        actions.run_push_job(job.pk, batch_size=batch_size)
    job.refresh_from_db()
    members = len(user_ids)
    assert (job.status, job.sent, job.skipped_by_cap, job.total) == (PushStatus.DONE, members, 0, members)
    inbox = Notification.objects.filter(kind="content.article", link__startswith=f"/c/{community.pk}/")
    assert sorted(inbox.values_list("user_id", flat=True)) == sorted(user_ids)
    english = set(User.objects.filter(pk__in=user_ids, language="en").values_list("pk", flat=True))
    notes = dict(inbox.values_list("user_id", "body"))
    assert {notes[pk] for pk in english} <= {"New article in your community; tap to read"}
    assert {notes[pk] for pk in set(user_ids) - english} == {"社群有新文章，点击阅读"}
    return len(queries)


def test_a_push_to_50_or_5000_members_runs_the_same_statements_and_each_chunk_a_fixed_number(shop, operator):
    user_ids = add_members(CommunityFactory.create(shop=shop), 5000)
    # Every third member reads English: one text per language, still a fixed number of statements.
    User.objects.filter(pk__in=user_ids[::3]).update(language="en")
    one_chunk = count_push_queries(shop, operator, user_ids[:50], batch_size=5000)
    assert count_push_queries(shop, operator, user_ids, batch_size=5000) == one_chunk
    # More chunks add the same few statements each: 2 chunks cost one chunk's more than 1, 5 four times that.
    per_chunk = count_push_queries(shop, operator, user_ids, batch_size=2500) - one_chunk
    assert count_push_queries(shop, operator, user_ids, batch_size=1000) == one_chunk + 4 * per_chunk
    assert one_chunk <= 20
    assert per_chunk <= 8


# --- keyword replies -------------------------------------------------------------------


def rule(shop, community, operator, keyword, match_type=MatchType.EXACT, **fields):
    return actions.do_create_keyword_rule(
        shop, community, KeywordRuleInput(keyword=keyword, match_type=match_type, **fields), actor=operator
    )


def test_keyword_exact_beats_contains_longest_contains_wins_unknown_gets_default(shop, community, operator):
    article = publish(shop, community, operator, "配送说明", push=False)
    rule(shop, community, operator, "配送", MatchType.CONTAINS, reply_text="每天 18 点前下单次日达")
    rule(shop, community, operator, "配送范围", MatchType.CONTAINS, reply_article_id=article.pk)
    rule(shop, community, operator, "价格", MatchType.EXACT, reply_text="以商品页为准")
    rule(shop, community, operator, "价格", MatchType.CONTAINS, reply_text="包含价格")
    assert actions.answer_keyword(community, " 价格 ").text == "以商品页为准"
    assert actions.answer_keyword(community, "问下价格").text == "包含价格"
    found = actions.answer_keyword(community, "你们的配送范围是哪里")
    assert found.article == article
    assert found.matched
    assert actions.answer_keyword(community, "配送要多久").text == "每天 18 点前下单次日达"
    unknown = actions.answer_keyword(community, "你好")
    assert not unknown.matched
    assert unknown.text == ContentSettings._meta.get_field("default_reply").default
    actions.do_update_settings(shop, community, max_pushes_per_day=1, default_reply="请联系群主", actor=operator)
    assert actions.answer_keyword(community, "你好").text == "请联系群主"


def test_contains_ties_break_by_oldest_rule(shop, community, operator):
    rule(shop, community, operator, "鱼", MatchType.CONTAINS, reply_text="先")
    rule(shop, community, operator, "虾", MatchType.CONTAINS, reply_text="后")
    assert actions.answer_keyword(community, "鱼和虾").text == "先"


def test_a_push_that_died_mid_way_is_resumed_by_the_sweeper_without_double_pushes(
    shop, community, operator, monkeypatch
):
    ids = sorted(add_members(community, 25))
    article = publish(shop, community, operator, push=False)
    job = PushJob.objects.create(shop=shop, community=community, article=article)
    start = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
    real_notify_from = actions.notify_from
    calls = {"n": 0}

    def dies_on_second_batch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == len(settings.LANGUAGES) + 1:  # one INSERT per language and batch
            raise RuntimeError("worker killed")
        return real_notify_from(*args, **kwargs)

    monkeypatch.setattr(actions, "notify_from", dies_on_second_batch)
    with time_machine.travel(start, tick=False), pytest.raises(RuntimeError):
        actions.run_push_job(job.pk, batch_size=10)
    monkeypatch.undo()
    job.refresh_from_db()
    assert (job.status, job.sent, job.last_user_id) == (PushStatus.RUNNING, 10, ids[9])
    # A live run is not stolen: too early for the sweeper.
    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        assert tasks.resume_stalled_pushes.call_local() == 0
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        assert tasks.resume_stalled_pushes.call_local() == 1
        assert tasks.resume_stalled_pushes.call_local() == 0
    job.refresh_from_db()
    assert (job.status, job.total, job.sent, job.skipped_by_cap) == (PushStatus.DONE, 25, 25, 0)
    assert sorted(Notification.objects.filter(kind="content.article").values_list("user_id", flat=True)) == ids
