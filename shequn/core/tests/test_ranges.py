import io

import pytest
from django.http import StreamingHttpResponse

from shequn.core.ranges import ByteRange, RangeNotSatisfiable, parse_range, ranged_file_response

# response.close() sends Django's request_finished signal, which touches the database connection.
pytestmark = pytest.mark.django_db

DATA = bytes(range(256)) * 4  # 1024 bytes, every offset distinguishable modulo 256


class RecordingFile(io.BytesIO):
    """A BytesIO that remembers how much each read() asked for and whether it was closed."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.reads: list[int] = []
        self.was_closed = False

    def read(self, size: int | None = -1) -> bytes:
        self.reads.append(-1 if size is None else size)
        return super().read(size)

    def close(self) -> None:
        self.was_closed = True
        super().close()


def _serve(header, *, data=DATA, if_range=None, chunk_size=64 * 1024):
    fileobj = RecordingFile(data)
    response = ranged_file_response(
        fileobj,
        size=len(data),
        range_header=header,
        if_range=if_range,
        content_type="audio/mpeg",
        filename="第1讲.mp3",
        chunk_size=chunk_size,
    )
    body = response.getvalue()
    response.close()
    return response, body, fileobj


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-0", (0, 0)),
        ("bytes=10-19", (10, 19)),
        ("bytes=1000-5000", (1000, 1023)),  # end past the file is clamped
        ("bytes=1023-", (1023, 1023)),
        ("bytes=100-", (100, 1023)),
        ("bytes=-1", (1023, 1023)),
        ("bytes=-24", (1000, 1023)),
        ("bytes=-5000", (0, 1023)),  # suffix longer than the file: the whole file
        (" Bytes = 5-6 ", (5, 6)),
    ],
)
def test_single_ranges_parse_to_inclusive_bounds(header, expected):
    byte_range = parse_range(header, 1024)
    assert byte_range == ByteRange(start=expected[0], end=expected[1], size=1024)


def test_no_header_and_several_ranges_mean_the_whole_file():
    assert parse_range(None, 1024) is None
    assert parse_range("bytes=0-1,5-9", 1024) is None
    assert parse_range("bytes=0-1, -5", 1024) is None


@pytest.mark.parametrize(
    "header",
    [
        "bytes=1024-",
        "bytes=1024-2000",
        "bytes=5000-",
        "bytes=-0",
        "bytes=5-2",
        "bytes=-",
        "bytes=a-b",
        "bytes=",
        "bytes=1-2-3",
        "bytes=-1-",
    ],
)
def test_unsatisfiable_or_malformed_ranges_are_refused(header):
    with pytest.raises(RangeNotSatisfiable):
        parse_range(header, 1024)


def test_an_empty_file_satisfies_no_range():
    for header in ["bytes=0-", "bytes=0-0", "bytes=-1"]:
        with pytest.raises(RangeNotSatisfiable):
            parse_range(header, 0)


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [("bytes=10-19", 10, 19), ("bytes=1000-", 1000, 1023), ("bytes=-24", 1000, 1023), ("bytes=0-99999", 0, 1023)],
)
def test_a_single_range_is_answered_206_with_exactly_that_slice(header, start, end):
    response, body, _ = _serve(header)
    assert response.status_code == 206
    assert body == DATA[start : end + 1]
    assert response["Content-Range"] == f"bytes {start}-{end}/1024"
    assert response["Content-Length"] == str(end - start + 1)
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "audio/mpeg"


def test_no_range_is_the_whole_file_with_200_and_its_length():
    response, body, _ = _serve(None)
    assert response.status_code == 200
    assert body == DATA
    assert response["Content-Length"] == "1024"
    assert response["Accept-Ranges"] == "bytes"
    assert "Content-Range" not in response
    assert response["Content-Disposition"] == "inline; filename*=utf-8''%E7%AC%AC1%E8%AE%B2.mp3"


def test_several_ranges_are_answered_with_the_whole_file():
    response, body, _ = _serve("bytes=0-1,5-9")
    assert (response.status_code, body, response["Content-Length"]) == (200, DATA, "1024")
    assert "Content-Range" not in response


def test_if_range_without_our_validators_gets_the_whole_file():
    response, body, _ = _serve("bytes=10-19", if_range='"some-etag"')
    assert (response.status_code, body) == (200, DATA)


@pytest.mark.parametrize("header", ["items=0-10", "0-10", "seconds=1-2"])
def test_a_range_unit_we_do_not_know_is_ignored(header):
    assert parse_range(header, 1024) is None
    response, body, _ = _serve(header)
    assert (response.status_code, body) == (200, DATA)


@pytest.mark.parametrize("header", ["bytes=1024-", "bytes=-0", "bytes=9-3"])
def test_unsatisfiable_ranges_get_416_with_the_total_and_close_the_file(header):
    response, body, fileobj = _serve(header)
    assert response.status_code == 416
    assert response["Content-Range"] == "bytes */1024"
    assert response["Accept-Ranges"] == "bytes"
    assert body == b""
    assert fileobj.was_closed


def test_the_body_is_streamed_in_chunks_never_read_whole():
    response, body, fileobj = _serve("bytes=100-899", chunk_size=128)
    assert (response.status_code, body) == (206, DATA[100:900])
    # 800 bytes in reads of at most 128: six full chunks and the 32-byte rest, nothing more.
    assert fileobj.reads == [128, 128, 128, 128, 128, 128, 32]
    assert fileobj.was_closed


def test_the_file_is_closed_even_when_the_client_stops_reading():
    fileobj = RecordingFile(DATA)
    response = ranged_file_response(
        fileobj, size=len(DATA), range_header=None, content_type="audio/mpeg", chunk_size=100
    )
    assert isinstance(response, StreamingHttpResponse)
    assert next(iter(response)) == DATA[:100]
    assert not fileobj.was_closed
    response.close()
    assert fileobj.was_closed
    assert fileobj.reads == [100]
