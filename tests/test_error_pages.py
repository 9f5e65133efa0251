"""Django's own error pages (400, 403, CSRF failure, 500) speak the member's language and keep the
H5 frame, like the 404 page: a member never sees Django's English "Forbidden (403)"."""

import pytest
from django.test import Client, RequestFactory
from django.utils import translation
from django.views import defaults

pytestmark = pytest.mark.django_db


def _csrf_refusal(language: str | None) -> str:
    browser = Client(enforce_csrf_checks=True)
    if language:
        browser.cookies["django_language"] = language
    answer = browser.post("/language/", {"language": "en", "next": "/me/"})
    assert answer.status_code == 403
    return answer.content.decode()


def test_a_form_posted_without_its_csrf_token_gets_a_chinese_page_that_says_nothing_was_saved() -> None:
    page = _csrf_refusal(None)
    assert 'data-error-code="csrf_failed"' in page
    assert "你提交的内容没有保存" in page
    assert "Forbidden" not in page


def test_the_csrf_page_is_english_for_a_member_who_chose_english() -> None:
    page = _csrf_refusal("en")
    assert "nothing you submitted was saved" in page
    assert "没有保存" not in page


@pytest.mark.parametrize(
    ("view", "code", "chinese", "english"),
    [
        (defaults.bad_request, "bad_request", "这个请求无法处理", "could not be handled"),
        (defaults.permission_denied, "forbidden", "你没有权限查看这个页面", "not allowed to see this page"),
    ],
)
def test_400_and_403_pages_in_both_languages(view, code, chinese, english) -> None:
    request = RequestFactory().get("/somewhere/")
    for language, words in (("zh-hans", chinese), ("en", english)):
        with translation.override(language):
            answer = view(request, Exception("detail never shown"))
        page = answer.content.decode()
        assert f'data-error-code="{code}"' in page
        assert words in page
        assert "detail never shown" not in page


def test_the_500_page_renders_without_a_request_context_in_both_languages() -> None:
    request = RequestFactory().get("/somewhere/")
    with translation.override("zh-hans"):
        chinese = defaults.server_error(request).content.decode()
    with translation.override("en"):
        english = defaults.server_error(request).content.decode()
    assert "服务器暂时出了问题" in chinese
    assert "Something went wrong on our side" in english
    assert 'data-error-code="server_error"' in english
