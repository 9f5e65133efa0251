"""Lesson audio answers HTTP Range requests (so WeChat's and Safari's players can seek) without
changing who may hear it."""

from contextlib import closing

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from shequn.courses import actions
from shequn.courses.enums import LessonKind

from .conftest import login, make_course

# 70,000 bytes: more than one 64 KiB chunk, every offset distinguishable modulo 251.
AUDIO = b"ID3" + bytes(i % 251 for i in range(69_997))
SIZE = len(AUDIO)


def _lesson(shop, course, operator, title):
    upload = SimpleUploadedFile("第1讲.mp3", AUDIO, content_type="audio/mpeg")
    return actions.do_create_lesson(
        shop, course, actions.LessonInput(title=title, kind=LessonKind.AUDIO, audio=upload), actor=operator
    )


@pytest.fixture
def lessons(shop, community, operator, member):
    """An open first audio lesson and a second one locked until day 2; ``member`` is enrolled."""
    course = make_course(shop, community, operator, lessons=0, drip_interval_days=1)
    first = _lesson(shop, course, operator, "音频")
    second = _lesson(shop, course, operator, "音频2")
    actions.do_enrol(member, course)
    url = f"/c/{community.pk}/courses/{course.pk}/lessons/{{}}/audio/"
    return url.format(first.pk), url.format(second.pk)


def _body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-1", 0, 1),
        ("bytes=100-199", 100, 199),
        ("bytes=65530-65545", 65530, 65545),  # across the 64 KiB chunk boundary
        ("bytes=69000-", 69000, SIZE - 1),
        ("bytes=0-", 0, SIZE - 1),
        ("bytes=-500", SIZE - 500, SIZE - 1),
        ("bytes=69990-80000", 69990, SIZE - 1),
    ],
)
def test_each_range_form_gets_206_with_exactly_those_bytes_of_the_uploaded_file(lessons, member, header, start, end):
    response = login(member).get(lessons[0], headers={"Range": header})
    assert response.status_code == 206
    assert _body(response) == AUDIO[start : end + 1]
    assert response["Content-Range"] == f"bytes {start}-{end}/{SIZE}"
    assert response["Content-Length"] == str(end - start + 1)
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "audio/mpeg"
    assert response["Cache-Control"] == "private, no-store"


def test_without_range_the_whole_file_comes_with_200_length_and_accept_ranges(lessons, member):
    response = login(member).get(lessons[0])
    assert response.status_code == 200
    assert _body(response) == AUDIO
    assert response["Content-Length"] == str(SIZE)
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "audio/mpeg"
    assert response["Cache-Control"] == "private, no-store"
    assert "Content-Range" not in response


@pytest.mark.parametrize("header", ["bytes=0-9,100-109", "seconds=0-10"])
def test_several_ranges_or_another_unit_get_the_whole_file(lessons, member, header):
    response = login(member).get(lessons[0], headers={"Range": header})
    assert response.status_code == 200
    assert _body(response) == AUDIO
    assert "Content-Range" not in response


@pytest.mark.parametrize("header", [f"bytes={SIZE}-", "bytes=999999-1000000", "bytes=-0", "bytes=x-"])
def test_unsatisfiable_ranges_get_416_with_the_total_size(lessons, member, header):
    response = login(member).get(lessons[0], headers={"Range": header})
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{SIZE}"
    assert response.content == b""


def test_a_range_does_not_open_the_audio_to_anyone_new(lessons, member, other_member, outsider):
    first, locked = lessons
    headers = {"Range": "bytes=0-9"}
    # A streamed file stays open until its response is closed (as a WSGI server does).
    with closing(login(member).get(first, headers=headers)) as allowed:
        assert allowed.status_code == 206
    assert login(member).get(locked, headers=headers).status_code == 403  # locked until day 2
    assert login(other_member).get(first, headers=headers).status_code == 403  # member, not enrolled
    non_member = login(outsider).get(first, headers=headers)
    assert non_member.status_code == 404
    assert b"ID3" not in non_member.content
    anonymous = Client().get(first, headers=headers)
    assert anonymous.status_code == 302
    assert anonymous["Location"] == f"/login/?next={first}"
