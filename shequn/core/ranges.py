"""Serving a file with HTTP Range support (RFC 9110 §14), so media players can seek.

Audio and video players (WeChat's in-app browser, iOS Safari) ask for byte ranges; without
206 answers they cannot seek and some refuse to play at all. This module knows nothing about
any app: give it an open binary file, its size and the request's ``Range`` header.

- no ``Range``                      → 200, the whole file, ``Content-Length``;
- ``bytes=a-b`` / ``bytes=a-`` / ``bytes=-n`` → 206 Partial Content with
  ``Content-Range: bytes a-b/total`` and exactly that slice (``b`` past the end is clamped,
  a suffix longer than the file is the whole file);
- several ranges (``bytes=0-1,5-9``) → 200 with the whole file (RFC 9110 lets a server ignore
  Range; multipart/byteranges is not worth it for players, which never ask for it);
- another unit (``items=0-1``) or no ``=`` → 200 with the whole file (RFC 9110 §14.2: an
  unknown range unit is ignored);
- unsatisfiable (start at or past the end, ``bytes=-0``, an empty file) or malformed bytes
  (``bytes=5-2``, no numbers) → 416 with ``Content-Range: bytes */total``;
- an ``If-Range`` header → 200 with the whole file: we send no validators, so we cannot tell
  whether the client's copy is current, and RFC 9110 §13.1.5 then requires ignoring Range.

Every answer carries ``Accept-Ranges: bytes``. The body is streamed in chunks from the file
(never read whole into memory) and the file is closed when the response is closed.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from django.http import HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header

CHUNK_SIZE = 64 * 1024

_RANGE_SPEC = re.compile(r"^(\d*)-(\d*)$")


class SeekableFile(Protocol):
    """What we need of the file: an open binary file, or Django's File/FieldFile."""

    def seek(self, offset: int, whence: int = ..., /) -> int: ...

    def read(self, size: int = ..., /) -> bytes: ...

    def close(self) -> None: ...


class RangeNotSatisfiable(Exception):
    """The Range header asks for no byte the file has, or cannot be understood (answer 416)."""


@dataclass(frozen=True)
class ByteRange:
    """An inclusive byte range ``start``–``end`` of a file of ``size`` bytes."""

    start: int
    end: int
    size: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    @property
    def content_range(self) -> str:
        return f"bytes {self.start}-{self.end}/{self.size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The single byte range ``header`` asks of a file of ``size`` bytes.

    None means "serve the whole file with 200" (no header, several ranges, another unit). Raises
    RangeNotSatisfiable for a range that cannot be served or a header that cannot be parsed.
    """
    if header is None:
        return None
    unit, sep, specs = header.strip().partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None  # RFC 9110 §14.2: a range unit the server does not understand is ignored
    parts = [part.strip() for part in specs.split(",")]
    if len(parts) > 1:
        return None
    match = _RANGE_SPEC.match(parts[0])
    if match is None:
        raise RangeNotSatisfiable(header)
    first, last = match.groups()
    if first == "":
        if last == "":
            raise RangeNotSatisfiable(header)
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable(header)
        return ByteRange(start=max(size - suffix, 0), end=size - 1, size=size)
    start = int(first)
    end = size - 1 if last == "" else int(last)
    if last != "" and end < start:
        raise RangeNotSatisfiable(header)
    if start >= size:
        raise RangeNotSatisfiable(header)
    return ByteRange(start=start, end=min(end, size - 1), size=size)


class _FileSlice:
    """Iterates ``length`` bytes of ``fileobj`` from ``start`` in chunks; ``close`` closes the file.

    StreamingHttpResponse calls ``close`` when the response is closed (even if the client went
    away halfway), so the file never leaks.
    """

    def __init__(self, fileobj: SeekableFile, start: int, length: int, chunk_size: int) -> None:
        self.fileobj = fileobj
        self.start = start
        self.length = length
        self.chunk_size = chunk_size

    def __iter__(self) -> Iterator[bytes]:
        self.fileobj.seek(self.start)
        remaining = self.length
        while remaining > 0:
            chunk = self.fileobj.read(min(self.chunk_size, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk

    def close(self) -> None:
        self.fileobj.close()


def ranged_file_response(
    fileobj: SeekableFile,
    *,
    size: int,
    range_header: str | None,
    content_type: str,
    filename: str = "",
    if_range: str | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> HttpResponse | StreamingHttpResponse:
    """Answer a GET for ``fileobj`` (``size`` bytes) honouring ``range_header`` (see module doc).

    Takes ownership of ``fileobj``: it is closed with the response (or at once for a 416).
    ``filename`` adds ``Content-Disposition: inline; filename=…``.
    """
    try:
        byte_range = None if if_range is not None else parse_range(range_header, size)
    except RangeNotSatisfiable:
        fileobj.close()
        refused = HttpResponse(status=416)
        refused["Content-Range"] = f"bytes */{size}"
        refused["Accept-Ranges"] = "bytes"
        return refused
    if byte_range is None:
        start, length, status = 0, size, 200
    else:
        start, length, status = byte_range.start, byte_range.length, 206
    response = StreamingHttpResponse(
        _FileSlice(fileobj, start, length, chunk_size), status=status, content_type=content_type
    )
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    if byte_range is not None:
        response["Content-Range"] = byte_range.content_range
    if filename:
        disposition = content_disposition_header(False, filename)
        if disposition:
            response["Content-Disposition"] = disposition
    return response
