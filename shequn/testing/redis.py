"""pytest plugin: a throwaway Redis from Debian's ``redis-server`` for scale-out tests.

``redis_url`` (module scope) starts ``redis-server`` on a free 127.0.0.1 port, with no
persistence (no RDB snapshots, no AOF) and its working directory in a temporary directory,
yields ``redis://127.0.0.1:<port>/0`` and always stops the server and removes the directory.

``redis_server`` (function scope) is the same kind of server as an object the test can
``kill()`` with SIGKILL and ``start()`` again on the same port: with no persistence the new
server starts empty, as a Redis that lost its data does.

``make test`` installs the ``redis-server`` package; without the binary the test FAILS with
instructions (a skipped scale-out test would hide that the configuration was never proven).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REDIS_SERVER_NAMES = ("redis-server", "/usr/bin/redis-server")
START_TIMEOUT_SECONDS = 20.0
STOP_TIMEOUT_SECONDS = 10.0
START_ATTEMPTS = 3  # a free port may be taken between choosing it and redis binding it


class RedisUnavailable(RuntimeError):
    pass


def redis_server_binary() -> str:
    for name in REDIS_SERVER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise RedisUnavailable(
        "redis-server not found: install Debian's package (apt-get install redis-server; make test does this as root)."
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_SECONDS)


def _start(binary: str, workdir: Path, port: int | None = None) -> tuple[subprocess.Popen[bytes], int]:
    """Start on ``port``, or on a free port (another one on each attempt) when it is None."""
    log = workdir / "redis.log"
    last_error = ""
    fixed_port = port
    for _ in range(START_ATTEMPTS):
        port = fixed_port or free_port()
        # Arguments only, no config file: loopback, no persistence, data dir in the temp dir.
        command = [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(workdir),
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--logfile",
            str(log),
        ]
        # The system's redis-server with fixed arguments, no shell.
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            if _ping(port):
                return process, port
            time.sleep(0.05)
        _stop(process)
        last_error = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
    raise RedisUnavailable(f"redis-server did not start in {START_ATTEMPTS} attempts; its log:\n{last_error}")


@contextmanager
def running_redis(binary: str | None = None) -> Iterator[str]:
    """Start a throwaway redis-server; yield its URL; always stop it and remove its directory."""
    binary = binary or redis_server_binary()
    workdir = Path(tempfile.mkdtemp(prefix="shequn-redis-"))
    try:
        process, port = _start(binary, workdir)
        try:
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            _stop(process)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    try:
        binary = redis_server_binary()
    except RedisUnavailable as error:
        pytest.fail(str(error), pytrace=False)
    with running_redis(binary) as url:
        yield url


class RedisServer:
    """A throwaway redis-server a test may kill (SIGKILL, data gone) and start again on its port."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self._binary, self._workdir = binary, workdir
        self._process: subprocess.Popen[bytes] | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server: on a free port the first time, on the same port after kill()."""
        if self._process is not None and self._process.poll() is None:
            raise RuntimeError("redis-server is already running")
        self._process, self.port = _start(self._binary, self._workdir, self.port)

    def kill(self) -> None:
        """SIGKILL, as a crash or the out-of-memory killer would: no shutdown, no save."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(timeout=STOP_TIMEOUT_SECONDS)

    def stop(self) -> None:
        if self._process is not None:
            _stop(self._process)


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    try:
        binary = redis_server_binary()
    except RedisUnavailable as error:
        pytest.fail(str(error), pytrace=False)
    workdir = Path(tempfile.mkdtemp(prefix="shequn-redis-"))
    server = RedisServer(binary, workdir)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
